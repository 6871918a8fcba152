// Caucho Hessian 4.0.38 (Debian libhessian-java) as a byte-level oracle for tianlu's hessian2 codec.
//
//   java --add-opens java.base/java.lang=ALL-UNNAMED -cp <classes>:hessian.jar:jackson-*.jar Oracle encode < cases.json
//       -> one JSON line per case: {"name", "hex"} (or "error")
//   java ... Oracle decode < lines.jsonl
//       -> for each {"name", "hex"} line: {"name", "value"} (or "error")
//
// Values use the typed notation of ../cases.json (see ../README.md).
//
// Encoding builds real Java values and calls Hessian2Output.writeObject, so Caucho's own
// serializers choose the bytes: Integer, Long, Double, Boolean, String, java.util.Date, byte[],
// int[]/long[]/double[]/boolean[]/short[]/String[]/Object[] for "[int" ... "[object",
// ArrayList for untyped lists, HashMap for untyped maps, and the named java.* collection or map
// class for other typed lists and maps (the oracle fails if that class would reorder the items).
// Classes that do not exist here (every "object" case, typed lists and maps of non-java.* types)
// are written by small serializers making the same Hessian2Output calls as Caucho's
// JavaSerializer, CollectionSerializer and MapSerializer: addRef, writeObjectBegin,
// writeClassFieldLength, writeString per field name, writeListBegin, writeMapBegin, ...
//
// Decoding calls Hessian2Input.readObject with a SerializerFactory whose list, map and object
// hooks keep the wire type name and the field order (Caucho's defaults would turn an unknown
// class into a HashMap and map type names to Java classes). Scalars, strings, binary, dates,
// class definitions, type references and back references are all parsed by Caucho itself.

import com.caucho.hessian.io.AbstractDeserializer;
import com.caucho.hessian.io.AbstractHessianInput;
import com.caucho.hessian.io.AbstractHessianOutput;
import com.caucho.hessian.io.AbstractSerializerFactory;
import com.caucho.hessian.io.Deserializer;
import com.caucho.hessian.io.Hessian2Input;
import com.caucho.hessian.io.Hessian2Output;
import com.caucho.hessian.io.Serializer;
import com.caucho.hessian.io.SerializerFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

public final class Oracle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  // ------------------------------------------------------------------------------------------
  // Holders for values whose Java class does not exist here.

  /** An instance of a class known only by name. */
  static final class GenObj implements Serializable {
    private static final long serialVersionUID = 1L;

    final String cls;
    final List<String> names = new ArrayList<>();
    final List<Object> values = new ArrayList<>();

    GenObj(String cls) {
      // Hessian2Output keys class definitions by the identity of the name (IdentityIntMap);
      // Caucho's JavaSerializer passes Class.getName(), one String per class, so intern.
      this.cls = cls.intern();
    }
  }

  /** A list with a wire type name (or null for untyped). */
  static final class GenList implements Serializable {
    private static final long serialVersionUID = 1L;

    final String type;
    final List<Object> items = new ArrayList<>();

    GenList(String type) {
      this.type = type;
    }
  }

  /** A map with a wire type name (or null for untyped `H`). */
  static final class GenMap implements Serializable {
    private static final long serialVersionUID = 1L;

    final String type;
    final List<Object[]> entries = new ArrayList<>();

    GenMap(String type) {
      this.type = type;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Encoding: serializers for the holders (the calls Caucho's own serializers make).

  static final class GenObjSerializer implements Serializer {
    @Override
    public void writeObject(Object obj, AbstractHessianOutput out) throws IOException {
      if (out.addRef(obj)) {
        return;
      }
      GenObj o = (GenObj) obj;
      int ref = out.writeObjectBegin(o.cls);
      if (ref == -1) {
        out.writeClassFieldLength(o.names.size());
        for (String name : o.names) {
          out.writeString(name);
        }
        out.writeObjectBegin(o.cls);
      } else if (ref < -1) {
        throw new IOException("unexpected hessian 1 object form");
      }
      for (Object v : o.values) {
        out.writeObject(v);
      }
    }
  }

  static final class GenListSerializer implements Serializer {
    @Override
    public void writeObject(Object obj, AbstractHessianOutput out) throws IOException {
      if (out.addRef(obj)) {
        return;
      }
      GenList l = (GenList) obj;
      boolean hasEnd = out.writeListBegin(l.items.size(), l.type);
      for (Object v : l.items) {
        out.writeObject(v);
      }
      if (hasEnd) {
        out.writeListEnd();
      }
    }
  }

  static final class GenMapSerializer implements Serializer {
    @Override
    public void writeObject(Object obj, AbstractHessianOutput out) throws IOException {
      if (out.addRef(obj)) {
        return;
      }
      GenMap m = (GenMap) obj;
      out.writeMapBegin(m.type);
      for (Object[] e : m.entries) {
        out.writeObject(e[0]);
        out.writeObject(e[1]);
      }
      out.writeMapEnd();
    }
  }

  static final class HolderSerializers extends AbstractSerializerFactory {
    @Override
    @SuppressWarnings("rawtypes") // Caucho's signatures use the raw Class
    public Serializer getSerializer(Class cl) {
      if (cl == GenObj.class) {
        return new GenObjSerializer();
      }
      if (cl == GenList.class) {
        return new GenListSerializer();
      }
      if (cl == GenMap.class) {
        return new GenMapSerializer();
      }
      return null;
    }

    @Override
    @SuppressWarnings("rawtypes") // Caucho's signatures use the raw Class
    public Deserializer getDeserializer(Class cl) {
      return null;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Decoding: hooks that keep wire type names and field order.

  static final class GenObjDeserializer extends AbstractDeserializer {
    private final String cls;

    GenObjDeserializer(String cls) {
      this.cls = cls;
    }

    @Override
    public Object[] createFields(int len) {
      return new Object[len];
    }

    @Override
    public Object createField(String name) {
      return name;
    }

    @Override
    public Object readObject(AbstractHessianInput in, Object[] fields) throws IOException {
      String[] names = new String[fields.length];
      for (int i = 0; i < fields.length; i++) {
        names[i] = (String) fields[i];
      }
      return readObject(in, names);
    }

    @Override
    public Object readObject(AbstractHessianInput in, String[] fieldNames) throws IOException {
      GenObj o = new GenObj(cls);
      in.addRef(o);
      for (String name : fieldNames) {
        o.names.add(name);
        o.values.add(in.readObject());
      }
      return o;
    }
  }

  static final class GenListDeserializer extends AbstractDeserializer {
    private final String type;

    GenListDeserializer(String type) {
      this.type = type;
    }

    @Override
    public Object readLengthList(AbstractHessianInput in, int length) throws IOException {
      GenList l = new GenList(type);
      in.addRef(l);
      for (int i = 0; i < length; i++) {
        l.items.add(in.readObject());
      }
      return l;
    }

    @Override
    public Object readList(AbstractHessianInput in, int length) throws IOException {
      if (length >= 0) {
        return readLengthList(in, length);
      }
      GenList l = new GenList(type);
      in.addRef(l);
      while (!in.isEnd()) {
        l.items.add(in.readObject());
      }
      in.readEnd();
      return l;
    }
  }

  static final class OracleFactory extends SerializerFactory {
    OracleFactory() {
      addFactory(new HolderSerializers());
    }

    @Override
    @SuppressWarnings("rawtypes") // Caucho's signatures use the raw Class
    public Deserializer getObjectDeserializer(String type, Class cl) {
      return new GenObjDeserializer(type);
    }

    @Override
    @SuppressWarnings("rawtypes") // Caucho's signatures use the raw Class
    public Deserializer getListDeserializer(String type, Class cl) {
      return new GenListDeserializer(type);
    }

    @Override
    public Object readList(AbstractHessianInput in, int length, String type) throws IOException {
      return new GenListDeserializer(type).readList(in, length);
    }

    @Override
    public Object readMap(AbstractHessianInput in, String type) throws IOException {
      GenMap m = new GenMap(type);
      in.addRef(m);
      while (!in.isEnd()) {
        Object k = in.readObject();
        Object v = in.readObject();
        m.entries.add(new Object[] {k, v});
      }
      in.readEnd();
      return m;
    }
  }

  // ------------------------------------------------------------------------------------------
  // typed notation -> Java values

  static Map.Entry<String, JsonNode> single(JsonNode node, String where) {
    if (node == null || !node.isObject() || node.size() != 1) {
      throw new IllegalArgumentException(where + ": expected a one-key object, got " + node);
    }
    return node.fields().next();
  }

  static String expandString(JsonNode v, String where) {
    if (v.isTextual()) {
      return v.textValue();
    }
    JsonNode r = single(v, where).getValue();
    return r.get("s").textValue().repeat(r.get("n").intValue());
  }

  static byte[] expandHex(JsonNode v, String where) {
    String hex;
    if (v.isTextual()) {
      hex = v.textValue();
    } else {
      JsonNode r = single(v, where).getValue();
      hex = r.get("hex").textValue().repeat(r.get("n").intValue());
    }
    if (hex.length() % 2 != 0) {
      throw new IllegalArgumentException(where + ": odd hex length");
    }
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  static double parseDouble(JsonNode v, String where) {
    if (v.isNumber()) {
      return v.doubleValue();
    }
    switch (v.textValue()) {
      case "NaN":
        return Double.NaN;
      case "Infinity":
        return Double.POSITIVE_INFINITY;
      case "-Infinity":
        return Double.NEGATIVE_INFINITY;
      case "-0.0":
        return -0.0;
      default:
        throw new IllegalArgumentException(where + ": bad double " + v);
    }
  }

  static int parseInt(JsonNode v, String where) {
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new IllegalArgumentException(where + ": not an int: " + v);
    }
    return v.intValue();
  }

  static Object build(JsonNode node, Map<String, Object> labels, String where) {
    Map.Entry<String, JsonNode> e = single(node, where);
    JsonNode v = e.getValue();
    switch (e.getKey()) {
      case "null":
        return null;
      case "bool":
        return v.booleanValue();
      case "int":
        return parseInt(v, where);
      case "long":
        return Long.parseLong(v.textValue());
      case "double":
        return parseDouble(v, where);
      case "date":
        return new Date(v.longValue());
      case "string":
        return expandString(v, where);
      case "binary_hex":
        return expandHex(v, where);
      case "list":
        return buildList(v, labels, where);
      case "map":
        return buildMap(v, labels, where);
      case "object":
        {
          GenObj o = new GenObj(v.get("class").textValue());
          int i = 0;
          for (JsonNode f : v.get("fields")) {
            o.names.add(f.get(0).textValue());
            o.values.add(build(f.get(1), labels, where + ".fields[" + i++ + "]"));
          }
          return o;
        }
      case "label":
        {
          String name = v.get("name").textValue();
          Object built = build(v.get("value"), labels, where + ".label(" + name + ")");
          labels.put(name, built);
          return built;
        }
      case "ref_to":
        if (!labels.containsKey(v.textValue())) {
          throw new IllegalArgumentException(where + ": ref_to unknown label " + v);
        }
        return labels.get(v.textValue());
      default:
        throw new IllegalArgumentException(where + ": unknown kind " + e.getKey());
    }
  }

  static Object buildList(JsonNode v, Map<String, Object> labels, String where) {
    String type = v.get("type").isNull() ? null : v.get("type").textValue();
    List<Object> items = new ArrayList<>();
    int i = 0;
    for (JsonNode it : v.get("items")) {
      items.add(build(it, labels, where + ".items[" + i++ + "]"));
    }
    int n = items.size();
    if (type == null) {
      return new ArrayList<>(items);
    }
    switch (type) {
      case "[int":
        {
          int[] a = new int[n];
          for (int j = 0; j < n; j++) {
            a[j] = (Integer) items.get(j);
          }
          return a;
        }
      case "[short":
        {
          short[] a = new short[n];
          for (int j = 0; j < n; j++) {
            a[j] = (short) (int) (Integer) items.get(j);
          }
          return a;
        }
      case "[long":
        {
          long[] a = new long[n];
          for (int j = 0; j < n; j++) {
            a[j] = (Long) items.get(j);
          }
          return a;
        }
      case "[double":
        {
          double[] a = new double[n];
          for (int j = 0; j < n; j++) {
            a[j] = (Double) items.get(j);
          }
          return a;
        }
      case "[boolean":
        {
          boolean[] a = new boolean[n];
          for (int j = 0; j < n; j++) {
            a[j] = (Boolean) items.get(j);
          }
          return a;
        }
      case "[string":
        {
          String[] a = new String[n];
          for (int j = 0; j < n; j++) {
            a[j] = (String) items.get(j);
          }
          return a;
        }
      case "[object":
        return items.toArray(new Object[0]);
      default:
        break;
    }
    Object javaCollection = newJavaInstance(type, Collection.class, where);
    if (javaCollection != null) {
      @SuppressWarnings("unchecked")
      Collection<Object> c = (Collection<Object>) javaCollection;
      c.addAll(items);
      List<Object> order = new ArrayList<>(c);
      if (!sameElements(order, items)) {
        throw new IllegalArgumentException(
            where + ": " + type + " would reorder or merge the items; list them in its order");
      }
      return c;
    }
    GenList l = new GenList(type);
    l.items.addAll(items);
    return l;
  }

  static Object buildMap(JsonNode v, Map<String, Object> labels, String where) {
    String type = v.get("type").isNull() ? null : v.get("type").textValue();
    List<Object[]> entries = new ArrayList<>();
    int i = 0;
    for (JsonNode en : v.get("entries")) {
      Object k = build(en.get(0), labels, where + ".entries[" + i + "][0]");
      Object val = build(en.get(1), labels, where + ".entries[" + i + "][1]");
      entries.add(new Object[] {k, val});
      i++;
    }
    Object javaMap = type == null ? new HashMap<Object, Object>() : newJavaInstance(type, Map.class, where);
    if (javaMap == null) {
      GenMap m = new GenMap(type);
      m.entries.addAll(entries);
      return m;
    }
    @SuppressWarnings("unchecked")
    Map<Object, Object> m = (Map<Object, Object>) javaMap;
    for (Object[] en : entries) {
      m.put(en[0], en[1]);
    }
    List<Object> keys = new ArrayList<>(m.keySet());
    List<Object> wanted = new ArrayList<>();
    for (Object[] en : entries) {
      wanted.add(en[0]);
    }
    if (!sameElements(keys, wanted)) {
      throw new IllegalArgumentException(
          where
              + ": "
              + m.getClass().getName()
              + " iterates its keys as "
              + keys
              + "; list the entries in that order");
    }
    return m;
  }

  static boolean sameElements(List<Object> a, List<Object> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i) && !Objects.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** A new instance of a java.* class implementing `want`, or null for any other type name. */
  static Object newJavaInstance(String type, Class<?> want, String where) {
    if (!type.startsWith("java.")) {
      return null;
    }
    try {
      Class<?> cl = Class.forName(type);
      if (!want.isAssignableFrom(cl)) {
        throw new IllegalArgumentException(where + ": " + type + " is not a " + want.getName());
      }
      return cl.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException ex) {
      throw new IllegalArgumentException(where + ": cannot instantiate " + type + ": " + ex, ex);
    }
  }

  static String toHex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) {
      sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    return sb.toString();
  }

  static byte[] fromHex(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  static String encode(JsonNode value, SerializerFactory factory) throws IOException {
    Object v = build(value, new HashMap<>(), "value");
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    Hessian2Output out = new Hessian2Output(bos);
    out.setSerializerFactory(factory);
    out.writeObject(v);
    out.flush();
    return toHex(bos.toByteArray());
  }

  // ------------------------------------------------------------------------------------------
  // Java values -> typed notation

  static ObjectNode one(String key, JsonNode v) {
    ObjectNode o = NODES.objectNode();
    o.set(key, v);
    return o;
  }

  static JsonNode typed(Object v, IdentityHashMap<Object, Boolean> stack) throws IOException {
    if (v == null) {
      return one("null", NODES.nullNode());
    }
    if (v instanceof Boolean) {
      return one("bool", NODES.booleanNode((Boolean) v));
    }
    if (v instanceof Integer) {
      return one("int", NODES.numberNode((Integer) v));
    }
    if (v instanceof Long) {
      return one("long", NODES.textNode(v.toString()));
    }
    if (v instanceof Double) {
      double d = (Double) v;
      if (Double.isNaN(d)) {
        return one("double", NODES.textNode("NaN"));
      } else if (Double.isInfinite(d)) {
        return one("double", NODES.textNode(d > 0 ? "Infinity" : "-Infinity"));
      } else if (d == 0.0 && 1.0 / d < 0) {
        return one("double", NODES.textNode("-0.0"));
      }
      return one("double", NODES.numberNode(d));
    }
    if (v instanceof Date) {
      return one("date", NODES.numberNode(((Date) v).getTime()));
    }
    if (v instanceof String) {
      return one("string", NODES.textNode((String) v));
    }
    if (v instanceof byte[]) {
      return one("binary_hex", NODES.textNode(toHex((byte[]) v)));
    }
    if (stack.containsKey(v)) {
      throw new IOException("cyclic value graph: the typed notation has no cycles");
    }
    stack.put(v, Boolean.TRUE);
    ObjectNode body = NODES.objectNode();
    JsonNode out;
    if (v instanceof GenList) {
      GenList l = (GenList) v;
      body.put("type", l.type);
      ArrayNode items = body.putArray("items");
      for (Object it : l.items) {
        items.add(typed(it, stack));
      }
      out = one("list", body);
    } else if (v instanceof GenMap) {
      GenMap m = (GenMap) v;
      body.put("type", m.type);
      ArrayNode entries = body.putArray("entries");
      for (Object[] en : m.entries) {
        entries.addArray().add(typed(en[0], stack)).add(typed(en[1], stack));
      }
      out = one("map", body);
    } else if (v instanceof GenObj) {
      GenObj o = (GenObj) v;
      body.put("class", o.cls);
      ArrayNode fields = body.putArray("fields");
      Iterator<Object> vals = o.values.iterator();
      for (String name : o.names) {
        fields.addArray().add(name).add(typed(vals.next(), stack));
      }
      out = one("object", body);
    } else {
      throw new IOException("Caucho returned an unexpected " + v.getClass().getName());
    }
    stack.remove(v);
    return out;
  }

  static JsonNode decode(String hex, SerializerFactory factory) throws IOException {
    byte[] bytes = fromHex(hex);
    if (bytes.length == 0) {
      throw new IOException("no bytes to decode");
    }
    Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(bytes));
    in.setSerializerFactory(factory);
    Object v = in.readObject();
    if (in.read() != -1) {
      throw new IOException("bytes left after the value");
    }
    return typed(v, new IdentityHashMap<>());
  }

  // ------------------------------------------------------------------------------------------

  static String errorText(Throwable t) {
    StringBuilder sb = new StringBuilder(t.toString());
    for (Throwable c = t.getCause(); c != null && c != t; c = c.getCause()) {
      sb.append(" / caused by ").append(c);
    }
    return sb.toString();
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1 || !(args[0].equals("encode") || args[0].equals("decode"))) {
      System.err.println("usage: Oracle encode < cases.json | Oracle decode < lines.jsonl");
      System.exit(2);
    }
    SerializerFactory factory = new OracleFactory();
    OutputStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (args[0].equals("encode")) {
      JsonNode doc = JSON.readTree(System.in.readAllBytes());
      for (JsonNode c : doc.get("cases")) {
        ObjectNode line = NODES.objectNode();
        line.put("name", c.get("name").textValue());
        try {
          line.put("hex", encode(c.get("value"), factory));
        } catch (Exception | StackOverflowError ex) {
          line.put("error", errorText(ex));
        }
        out.write(JSON.writeValueAsBytes(line));
        out.write('\n');
      }
    } else {
      BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String s = r.readLine(); s != null; s = r.readLine()) {
        if (s.isBlank()) {
          continue;
        }
        JsonNode req = JSON.readTree(s);
        ObjectNode line = NODES.objectNode();
        line.put("name", req.get("name").textValue());
        try {
          line.set("value", decode(req.get("hex").textValue(), factory));
        } catch (Exception | StackOverflowError ex) {
          line.put("error", errorText(ex));
        }
        out.write(JSON.writeValueAsBytes(line));
        out.write('\n');
      }
    }
    out.writeTo(stdout);
    stdout.flush();
  }
}
