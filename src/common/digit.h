/*
 * Digit values for the number parsers that follow Java's (Long.parseLong,
 * Integer.parseInt with a radix, hex in file names and \u escapes).
 */
#ifndef PD_COMMON_DIGIT_H
#define PD_COMMON_DIGIT_H

/* 0-9 for '0'-'9', 10-35 for 'a'-'z' and 'A'-'Z' (Character.digit's ASCII part), else -1. */
static inline int pd_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return -1;
}

/* 0-15 for a hex digit of either case, else -1. */
static inline int pd_hex_digit(char c)
{
    int d = pd_digit_value(c);
    return d < 16 ? d : -1;
}

#endif
