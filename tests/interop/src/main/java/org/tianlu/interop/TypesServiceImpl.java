package org.tianlu.interop;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Echoes everything back unchanged; the edge-case methods are documented on the interface. */
public class TypesServiceImpl implements TypesService {
    /** The tokens bigString cycles through; the emoji is one code point, two UTF-16 units. */
    static final String[] BIG_STRING_TOKENS = {"a", "b", "c", "中", "文", "😀", "1"};

    @Override
    public int echoInt(int v) {
        return v;
    }

    @Override
    public Integer echoInteger(Integer v) {
        return v;
    }

    @Override
    public long echoLong(long v) {
        return v;
    }

    @Override
    public Long echoLongObj(Long v) {
        return v;
    }

    @Override
    public short echoShort(short v) {
        return v;
    }

    @Override
    public Short echoShortObj(Short v) {
        return v;
    }

    @Override
    public byte echoByte(byte v) {
        return v;
    }

    @Override
    public Byte echoByteObj(Byte v) {
        return v;
    }

    @Override
    public char echoChar(char v) {
        return v;
    }

    @Override
    public Character echoCharacter(Character v) {
        return v;
    }

    @Override
    public boolean echoBoolean(boolean v) {
        return v;
    }

    @Override
    public Boolean echoBooleanObj(Boolean v) {
        return v;
    }

    @Override
    public float echoFloat(float v) {
        return v;
    }

    @Override
    public Float echoFloatObj(Float v) {
        return v;
    }

    @Override
    public double echoDouble(double v) {
        return v;
    }

    @Override
    public Double echoDoubleObj(Double v) {
        return v;
    }

    @Override
    public String echoString(String v) {
        return v;
    }

    @Override
    public Date echoDate(Date v) {
        return v;
    }

    @Override
    public BigDecimal echoBigDecimal(BigDecimal v) {
        return v;
    }

    @Override
    public BigInteger echoBigInteger(BigInteger v) {
        return v;
    }

    @Override
    public Color echoColor(Color v) {
        return v;
    }

    @Override
    public byte[] echoBytes(byte[] v) {
        return v;
    }

    @Override
    public int[] echoIntArray(int[] v) {
        return v;
    }

    @Override
    public String[] echoStringArray(String[] v) {
        return v;
    }

    @Override
    public List<String> echoList(List<String> v) {
        return v;
    }

    @Override
    public Set<Integer> echoSet(Set<Integer> v) {
        return v;
    }

    @Override
    public Map<String, Integer> echoMap(Map<String, Integer> v) {
        return v;
    }

    @Override
    public Map<String, List<User>> echoNested(Map<String, List<User>> v) {
        return v;
    }

    @Override
    public User echoUser(User v) {
        return v;
    }

    @Override
    public Object echoObject(Object v) {
        return v;
    }

    @Override
    public User nullUser() {
        return null;
    }

    @Override
    public String describe(Object o) {
        return o == null ? "null" : o.getClass().getName() + ":" + o;
    }

    @Override
    public String over(String s) {
        return "over(String):" + s;
    }

    @Override
    public String over(int i) {
        return "over(int):" + i;
    }

    @Override
    public String over(String s, int i) {
        return "over(String,int):" + s + "," + i;
    }

    @Override
    public void doNothing(String s) {}

    @Override
    public String concat(String a, String b) {
        return String.valueOf(a) + String.valueOf(b);
    }

    @Override
    public int sumList(List<Integer> values) {
        int sum = 0;
        if (values != null) {
            for (Integer v : values) {
                if (v != null) {
                    sum += v;
                }
            }
        }
        return sum;
    }

    @Override
    public String lengthOf(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() + ":" + s.codePointCount(0, s.length());
    }

    @Override
    public String bigString(int n) {
        StringBuilder sb = new StringBuilder(n);
        int i = 0;
        while (sb.length() < n) {
            String token = BIG_STRING_TOKENS[i % BIG_STRING_TOKENS.length];
            i++;
            if (sb.length() + token.length() > n) {
                token = "x";
            }
            sb.append(token);
        }
        return sb.toString();
    }

    @Override
    public byte[] bigBytes(int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            out[i] = (byte) (i * 31 + 7);
        }
        return out;
    }

    @Override
    public String slow(int ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "done";
    }

    @Override
    public void fail(String msg) throws BusinessException {
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("msg", String.valueOf(msg));
        detail.put("source", "TypesService.fail");
        throw new BusinessException(msg, 42, "rejected", detail);
    }

    @Override
    public void failRuntime(String msg) {
        throw new IllegalStateException(msg);
    }
}
