package org.tianlu.interop.idl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.protobuf.ByteString;
import com.google.protobuf.DoubleValue;
import com.google.protobuf.Duration;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.StringValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;

import org.apache.dubbo.rpc.TriRpcStatus;

/** Three fixed items; deterministic answers so tests can compare whole JSON documents. */
public final class CatalogServiceImpl implements CatalogService {
    /** 2024-02-29T12:34:56.789Z, the creation time of every seeded item. */
    static final Timestamp CREATED = Timestamp.newBuilder().setSeconds(1709210096L).setNanos(789_000_000).build();

    /** 2025-01-01T00:00:00Z, SearchReply.generated_at. */
    static final Timestamp GENERATED = Timestamp.newBuilder().setSeconds(1735689600L).build();

    private final Map<Long, Item> items = new LinkedHashMap<>();

    public CatalogServiceImpl() {
        items.put(1L, Item.newBuilder()
                .setId(1)
                .setName("Dream of the Red Chamber")
                .setCategory(Category.BOOK)
                .setPrice(Money.newBuilder().setCurrency("CNY").setUnits(59).setNanos(900_000_000))
                .addTags("classic")
                .addTags("novel")
                .putStock("hangzhou", 12)
                .putStock("beijing", 0)
                .addReviews(Item.Review.newBuilder().setAuthor("alice").setStars(5).setText("红楼梦 😀"))
                .addReviews(Item.Review.newBuilder().setAuthor("bob").setStars(4))
                .setCreatedAt(CREATED)
                .setShelfLife(Duration.newBuilder().setSeconds(86400).setNanos(500_000_000))
                .setAttributes(Struct.newBuilder()
                        .putFields("pages", Value.newBuilder().setNumberValue(1606).build())
                        .putFields("hardcover", Value.newBuilder().setBoolValue(true).build())
                        .putFields("translator", Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build())
                        .putFields("languages", Value.newBuilder().setListValue(ListValue.newBuilder()
                                .addValues(Value.newBuilder().setStringValue("zh"))
                                .addValues(Value.newBuilder().setStringValue("en"))).build()))
                .setNote(StringValue.of("first edition"))
                .setDiscount(DoubleValue.of(0.15))
                .setThumbnail(ByteString.copyFrom(new byte[] {0, 1, 2, (byte) 0xfe, (byte) 0xff}))
                .setWeight(1.25)
                .setAvailable(true)
                .setSku(-1L) // 2^64 - 1 as uint64
                .addAlsoIn(Category.GAME)
                .build());
        items.put(2L, Item.newBuilder()
                .setId(2)
                .setName("Kind of Blue")
                .setCategory(Category.MUSIC)
                .setPrice(Money.newBuilder().setCurrency("USD").setUnits(19))
                .addTags("jazz")
                .setCreatedAt(CREATED)
                .setAvailable(true)
                .setSku(9_007_199_254_740_993L) // 2^53 + 1: exact only as a JSON string
                .build());
        items.put(3L, Item.newBuilder()
                .setId(3)
                .setName("Go")
                .setCategory(Category.GAME)
                .setCreatedAt(CREATED)
                .build());
    }

    @Override
    public Item getItem(GetItemRequest request) {
        long id = request.getId();
        if (id < 0) {
            throw new IllegalArgumentException("negative id " + id);
        }
        Item item = items.get(id);
        if (item == null) {
            throw TriRpcStatus.NOT_FOUND.withDescription("no item " + id).asException();
        }
        return item;
    }

    @Override
    public Item echoItem(Item item) {
        return item;
    }

    @Override
    public Item slow(SlowRequest request) {
        try {
            Thread.sleep(Math.max(0, request.getMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return items.get(3L);
    }

    @Override
    public SearchReply search(SearchRequest request) {
        List<Item> found = new ArrayList<>();
        for (Item item : items.values()) {
            boolean nameMatches = request.getQuery().isEmpty() || item.getName().contains(request.getQuery());
            boolean categoryMatches = request.getCategoriesList().isEmpty()
                    || request.getCategoriesList().contains(item.getCategory());
            if (nameMatches && categoryMatches) {
                found.add(item);
            }
        }
        int total = found.size();
        if (request.hasLimit() && request.getLimit().getValue() >= 0 && request.getLimit().getValue() < found.size()) {
            found = found.subList(0, request.getLimit().getValue());
        }
        SearchReply.Builder reply = SearchReply.newBuilder().setTotal(total).setGeneratedAt(GENERATED);
        for (Item item : found) {
            reply.addItems(item);
            reply.putByName(item.getName(), item);
        }
        return reply.build();
    }
}
