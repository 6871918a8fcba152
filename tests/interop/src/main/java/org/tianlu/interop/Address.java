package org.tianlu.interop;

import java.io.Serializable;
import java.util.Objects;

/** A nested POJO inside {@link User}. Serializable, reachable from exported interfaces (trusted). */
public class Address implements Serializable {
    private static final long serialVersionUID = 1L;

    private String city;
    private String zip;

    public Address() {}

    public Address(String city, String zip) {
        this.city = city;
        this.zip = zip;
    }

    public String getCity() {
        return city;
    }

    public void setCity(String city) {
        this.city = city;
    }

    public String getZip() {
        return zip;
    }

    public void setZip(String zip) {
        this.zip = zip;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Address)) {
            return false;
        }
        Address a = (Address) o;
        return Objects.equals(city, a.city) && Objects.equals(zip, a.zip);
    }

    @Override
    public int hashCode() {
        return Objects.hash(city, zip);
    }

    @Override
    public String toString() {
        return "Address{city=" + city + ", zip=" + zip + "}";
    }
}
