package org.tianlu.interop.idl;

/**
 * The protobuf IDL service of {@code src/main/proto/catalog.proto}, written by hand over the
 * generated message classes (no Dubbo stub generator). Every method takes and returns one
 * protobuf message, so Triple carries them as plain protobuf (no wrapper). The interface name is
 * the proto's {@code package.Service}, which makes it reachable at the gRPC path
 * {@code /org.tianlu.interop.idl.CatalogService/<Method>}.
 */
public interface CatalogService {
    /** Items 1, 2 and 3 exist; other ids fail with NOT_FOUND, negative ids with UNKNOWN. */
    Item getItem(GetItemRequest request);

    /** The item, unchanged. */
    Item echoItem(Item item);

    /** Seeded items whose name contains the query, in the given categories, at most limit. */
    SearchReply search(SearchRequest request);

    /** Sleeps {@code millis}, then returns item 3. */
    Item slow(SlowRequest request);
}
