package org.tianlu.interop;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/** In-memory {@link UserService}; each export has its own store. */
public class UserServiceImpl implements UserService {
    private final String instanceName;
    private final long delayMs;
    private final Map<Long, User> users = new ConcurrentSkipListMap<>();
    private final AtomicLong nextId = new AtomicLong(1000);

    /**
     * @param instanceName what whoAmI returns
     * @param delayMs artificial delay added to every call (0 = none), for timeout/balancing tests
     */
    public UserServiceImpl(String instanceName, long delayMs) {
        this.instanceName = instanceName;
        this.delayMs = delayMs;
        seed(1, "alice", 30, "Hangzhou", "310000", Color.RED);
        seed(2, "bob", 25, "Beijing", "100000", Color.GREEN);
        seed(3, "carol", 41, "Shanghai", "200000", Color.BLUE);
    }

    private void seed(long id, String name, int age, String city, String zip, Color color) {
        User u = new User(id, name, age);
        u.setAddress(new Address(city, zip));
        u.setHistory(new ArrayList<>(List.of(new Address(city, zip))));
        u.setFavorite(color);
        u.setCreated(new Date(1_700_000_000_000L + id * 86_400_000L));
        u.setBalance(new BigDecimal(id + "00.50"));
        users.put(id, u);
    }

    private void pause() {
        if (delayMs > 0) {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public User getUser(long id) {
        pause();
        User u = users.get(id);
        return u == null ? null : u.copy();
    }

    @Override
    public User createUser(User u) {
        pause();
        User stored = (u == null ? new User() : u.copy());
        stored.setId(nextId.getAndIncrement());
        users.put(stored.getId(), stored);
        return stored.copy();
    }

    @Override
    public User updateUser(long id, User u) {
        pause();
        if (u == null || !users.containsKey(id)) {
            return null;
        }
        User stored = u.copy();
        stored.setId(id);
        users.put(id, stored);
        return stored.copy();
    }

    @Override
    public List<User> listUsers(String nameLike, int limit) {
        pause();
        List<User> out = new ArrayList<>();
        for (User u : users.values()) {
            if (limit > 0 && out.size() >= limit) {
                break;
            }
            boolean matches = nameLike == null || nameLike.isEmpty()
                    || (u.getName() != null && u.getName().contains(nameLike));
            if (matches) {
                out.add(u.copy());
            }
        }
        return out;
    }

    @Override
    public boolean deleteUser(long id) {
        pause();
        return users.remove(id) != null;
    }

    @Override
    public String whoAmI() {
        pause();
        return instanceName;
    }
}
