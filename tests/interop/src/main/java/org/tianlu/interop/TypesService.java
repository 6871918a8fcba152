package org.tianlu.interop;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The type matrix for generic {@code $invoke} tests: one echo per Java type, plus edge cases. */
public interface TypesService {
    int echoInt(int v);

    Integer echoInteger(Integer v);

    long echoLong(long v);

    Long echoLongObj(Long v);

    short echoShort(short v);

    Short echoShortObj(Short v);

    byte echoByte(byte v);

    Byte echoByteObj(Byte v);

    char echoChar(char v);

    Character echoCharacter(Character v);

    boolean echoBoolean(boolean v);

    Boolean echoBooleanObj(Boolean v);

    float echoFloat(float v);

    Float echoFloatObj(Float v);

    double echoDouble(double v);

    Double echoDoubleObj(Double v);

    String echoString(String v);

    Date echoDate(Date v);

    BigDecimal echoBigDecimal(BigDecimal v);

    BigInteger echoBigInteger(BigInteger v);

    Color echoColor(Color v);

    byte[] echoBytes(byte[] v);

    int[] echoIntArray(int[] v);

    String[] echoStringArray(String[] v);

    List<String> echoList(List<String> v);

    Set<Integer> echoSet(Set<Integer> v);

    Map<String, Integer> echoMap(Map<String, Integer> v);

    Map<String, List<User>> echoNested(Map<String, List<User>> v);

    User echoUser(User v);

    Object echoObject(Object v);

    /** Always null. */
    User nullUser();

    /** {@code "null"} or {@code <runtime class name>:<toString>}: shows how an argument was boxed. */
    String describe(Object o);

    /** Overloads: the parameter types pick the method. */
    String over(String s);

    String over(int i);

    String over(String s, int i);

    void doNothing(String s);

    /** Null-safe concatenation: a null argument is written as "null". */
    String concat(String a, String b);

    int sumList(List<Integer> values);

    /** {@code <UTF-16 length>:<code point count>}. */
    String lengthOf(String s);

    /** A string of exactly n UTF-16 units cycling through ASCII, CJK and a surrogate-pair emoji. */
    String bigString(int n);

    /** n bytes, byte i = (byte) (i * 31 + 7). */
    byte[] bigBytes(int n);

    /** Sleeps ms milliseconds, then returns "done". */
    String slow(int ms);

    /** Throws BusinessException(msg, code 42, reason "rejected", detail {msg, source}). */
    void fail(String msg) throws BusinessException;

    /** Throws IllegalStateException(msg). */
    void failRuntime(String msg);
}
