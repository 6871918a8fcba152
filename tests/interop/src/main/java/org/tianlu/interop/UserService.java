package org.tianlu.interop;

import java.util.List;

/**
 * A small user service for the gateway tests, exported as version 1.0.0 (no group) and again as
 * version 1.0.0 group "g2" whose {@link #whoAmI()} carries a "@g2" marker.
 */
public interface UserService {
    /** The user, or null when there is none. Users 1, 2 and 3 exist at start. */
    User getUser(long id);

    /** Stores the user under a new id (from 1000 up) and returns it with that id. */
    User createUser(User u);

    /** Replaces user id (the stored copy keeps that id); null when there is no such user. */
    User updateUser(long id, User u);

    /** Users whose name contains nameLike (null or "" = all), by id, at most limit (<= 0 = all). */
    List<User> listUsers(String nameLike, int limit);

    /** true when the user existed. */
    boolean deleteUser(long id);

    /** The instance name (--name, default --app), plus "@g2" on the group g2 export. */
    String whoAmI();
}
