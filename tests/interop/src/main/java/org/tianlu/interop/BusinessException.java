package org.tianlu.interop;

import java.util.Map;

/**
 * A checked business exception with custom fields. Declared on {@link TypesService#fail}, so
 * Dubbo's ExceptionFilter passes it through unchanged; its fields travel as hessian object fields.
 */
public class BusinessException extends Exception {
    private static final long serialVersionUID = 1L;

    private int code;
    private String reason;
    private Map<String, String> detail;

    public BusinessException() {}

    public BusinessException(String message, int code, String reason, Map<String, String> detail) {
        super(message);
        this.code = code;
        this.reason = reason;
        this.detail = detail;
    }

    public int getCode() {
        return code;
    }

    public String getReason() {
        return reason;
    }

    public Map<String, String> getDetail() {
        return detail;
    }
}
