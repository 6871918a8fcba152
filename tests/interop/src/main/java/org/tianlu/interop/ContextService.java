package org.tianlu.interop;

/**
 * Shows the gateway's tests what reached the provider besides the arguments: the attachments of
 * the current call (trace context, request id, claims).
 */
public interface ContextService {
    /** The value of the call's attachment {@code key}, or null when it has none. */
    String attachment(String key);
}
