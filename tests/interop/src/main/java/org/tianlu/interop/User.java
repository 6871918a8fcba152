package org.tianlu.interop;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Date;
import java.util.List;

/**
 * The POJO of the type matrix: primitives, a nested POJO, a list of POJOs, an enum, a date and a
 * BigDecimal. Serializable and reachable from exported interfaces, so Dubbo's serialization class
 * checker trusts it.
 */
public class User implements Serializable {
    private static final long serialVersionUID = 1L;

    private String name;
    private int age;
    private long id;
    private Address address;
    private List<Address> history;
    private Color favorite;
    private Date created;
    private BigDecimal balance;

    public User() {}

    public User(long id, String name, int age) {
        this.id = id;
        this.name = name;
        this.age = age;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public int getAge() {
        return age;
    }

    public void setAge(int age) {
        this.age = age;
    }

    public long getId() {
        return id;
    }

    public void setId(long id) {
        this.id = id;
    }

    public Address getAddress() {
        return address;
    }

    public void setAddress(Address address) {
        this.address = address;
    }

    public List<Address> getHistory() {
        return history;
    }

    public void setHistory(List<Address> history) {
        this.history = history;
    }

    public Color getFavorite() {
        return favorite;
    }

    public void setFavorite(Color favorite) {
        this.favorite = favorite;
    }

    public Date getCreated() {
        return created;
    }

    public void setCreated(Date created) {
        this.created = created;
    }

    public BigDecimal getBalance() {
        return balance;
    }

    public void setBalance(BigDecimal balance) {
        this.balance = balance;
    }

    /** A copy, so the in-memory store never hands out its own instances. */
    public User copy() {
        User u = new User(id, name, age);
        u.address = address;
        u.history = history;
        u.favorite = favorite;
        u.created = created;
        u.balance = balance;
        return u;
    }

    @Override
    public String toString() {
        return "User{id=" + id + ", name=" + name + ", age=" + age + ", address=" + address
                + ", history=" + history + ", favorite=" + favorite + ", created=" + created
                + ", balance=" + balance + "}";
    }
}
