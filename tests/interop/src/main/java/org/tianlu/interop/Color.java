package org.tianlu.interop;

/** A plain enum: generic results carry it as its name, generic arguments accept the name. */
public enum Color {
    RED,
    GREEN,
    BLUE
}
