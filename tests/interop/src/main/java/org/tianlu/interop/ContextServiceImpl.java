package org.tianlu.interop;

import org.apache.dubbo.rpc.RpcContext;

/** Reads the server-side attachments of the call being served. */
public class ContextServiceImpl implements ContextService {
    @Override
    public String attachment(String key) {
        Object v = RpcContext.getServerAttachment().getObjectAttachment(key);
        return v == null ? null : v.toString();
    }
}
