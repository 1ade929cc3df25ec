/* The strict JSON reader: accepts RFC 8259 objects, refuses everything else. */
#include "harness.h"
#include "sipnats_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sipnats_status parse(const char *text, sipnats_json_object *o, char *why, size_t why_size)
{
    return sipnats_json_parse_object(text, strlen(text), 65536, o, why, why_size);
}

static void test_reads_fields(void)
{
    sipnats_json_object o, from;
    sipnats_json_value v;
    char s[128];
    int64_t n = 0;
    int b = 0;
    const char *text = " {\"v\":1,\"call\":\"c-1\",\"sdp\":\"v=0\\r\\n\",\"ok\":true,"
                       "\"from\":{\"uri\":\"sip:alice@x\"},\"list\":[1,2.5e3,null,\"\\u00e9\\ud83d\\ude00\"],"
                       "\"neg\":-42,\"uni\":\"\\u00e9\"} ";
    CHECK_OK(parse(text, &o, NULL, 0));
    CHECK(o.count == 8);
    CHECK_OK(sipnats_json_get_int(&o, "v", &n));
    CHECK(n == 1);
    CHECK_OK(sipnats_json_get_int(&o, "neg", &n));
    CHECK(n == -42);
    CHECK_OK(sipnats_json_get_string(&o, "call", s, sizeof(s), NULL));
    CHECK(strcmp(s, "c-1") == 0);
    CHECK_OK(sipnats_json_get_string(&o, "sdp", s, sizeof(s), NULL));
    CHECK(strcmp(s, "v=0\r\n") == 0);
    CHECK_OK(sipnats_json_get_string(&o, "uni", s, sizeof(s), NULL));
    CHECK(strcmp(s, "\xc3\xa9") == 0);
    CHECK_OK(sipnats_json_get_bool(&o, "ok", &b));
    CHECK(b == 1);
    CHECK_OK(sipnats_json_get(&o, "from", &v));
    CHECK_OK(sipnats_json_object_of(&v, &from));
    CHECK_OK(sipnats_json_get_string(&from, "uri", s, sizeof(s), NULL));
    CHECK(strcmp(s, "sip:alice@x") == 0);
    CHECK_STATUS(SIPNATS_ERR_NOT_FOUND, sipnats_json_get(&o, "nope", &v));
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_get_int(&o, "call", &n));
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_get_string(&o, "v", s, sizeof(s), NULL));
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_json_get_string(&o, "call", s, 3, NULL));
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_get_bool(&o, "v", &b));
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_object_of(&(sipnats_json_value){SIPNATS_JSON_STRING, "\"x\"", 3}, &from));
}

static void test_refuses_malformed(void)
{
    static const char *const bad[] = {
        "",
        "[]",
        "\"str\"",
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        "{\"a\":1,}",
        "{,}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":-}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":\"\xc0\xaf\"}",
        "{\"a\":\"\xed\xa0\x80\"}",
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"a\":{\"b\":1,\"b\":2}}",
        "{'a':1}",
        "{a:1}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":+1}",
        "{\"a\":NaN}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sipnats_json_object o;
        char why[96] = "";
        sipnats_status s = parse(bad[i], &o, why, sizeof(why));
        if (s == SIPNATS_OK)
            printf("\n    accepted: %s", bad[i]);
        CHECK(s == SIPNATS_ERR_PROTOCOL);
        CHECK(why[0] != '\0');
        CHECK(o.count == 0);
    }
}

static void test_refuses_nul_truncation_and_size(void)
{
    sipnats_json_object o;
    char why[96];
    static const char with_nul[] = "{\"a\":\"x\0y\"}";
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL,
                 sipnats_json_parse_object(with_nul, sizeof(with_nul) - 1, 1024, &o, why, sizeof(why)));
    CHECK(strstr(why, "NUL") != NULL);
    static const char nul_outside[] = "{\"a\":1}\0";
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_parse_object(nul_outside, sizeof(nul_outside) - 1,
                                                                 1024, &o, why, sizeof(why)));
    /* Every proper prefix of a valid document is refused. */
    const char *full = "{\"v\":1,\"call\":\"abc\",\"x\":[true,{\"y\":null}],\"n\":-1.5e+2}";
    CHECK_OK(parse(full, &o, NULL, 0));
    for (size_t cut = 0; cut < strlen(full); cut++)
        CHECK(sipnats_json_parse_object(full, cut, 1024, &o, NULL, 0) != SIPNATS_OK);
    /* \u0000 decodes to NUL: valid JSON, refused when read as a C string. */
    CHECK_OK(parse("{\"a\":\"x\\u0000y\"}", &o, NULL, 0));
    char s[16];
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, sipnats_json_get_string(&o, "a", s, sizeof(s), NULL));
    /* Oversized. */
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_json_parse_object(full, strlen(full), 10, &o, why, sizeof(why)));
    CHECK_STATUS(SIPNATS_ERR_INVALID_ARG, sipnats_json_parse_object(NULL, 0, 10, &o, NULL, 0));
    int64_t n;
    CHECK_OK(parse("{\"big\":92233720368547758070,\"min\":-9223372036854775808}", &o, NULL, 0));
    CHECK_STATUS(SIPNATS_ERR_TOO_LARGE, sipnats_json_get_int(&o, "big", &n));
    CHECK_OK(sipnats_json_get_int(&o, "min", &n));
    CHECK(n == INT64_MIN);
}

static void test_bounds_depth_and_members(void)
{
    sipnats_json_object o;
    char buf[4096];
    size_t p = 0;
    /* Depth 16 accepted, 17 refused. */
    for (int depth = 16; depth <= 17; depth++) {
        p = 0;
        for (int i = 0; i < depth - 1; i++)
            p += (size_t)snprintf(buf + p, sizeof(buf) - p, "{\"a\":");
        p += (size_t)snprintf(buf + p, sizeof(buf) - p, "{}");
        for (int i = 0; i < depth - 1; i++)
            buf[p++] = '}';
        buf[p] = '\0';
        sipnats_status s = parse(buf, &o, NULL, 0);
        CHECK(depth == 16 ? s == SIPNATS_OK : s == SIPNATS_ERR_PROTOCOL);
    }
    /* Very deep arrays never recurse past the bound. */
    p = 0;
    p += (size_t)snprintf(buf, sizeof(buf), "{\"a\":");
    for (int i = 0; i < 2000; i++)
        buf[p++] = '[';
    buf[p] = '\0';
    CHECK_STATUS(SIPNATS_ERR_PROTOCOL, parse(buf, &o, NULL, 0));
    /* 64 members accepted, 65 refused. */
    for (int members = 64; members <= 65; members++) {
        p = 0;
        buf[p++] = '{';
        for (int i = 0; i < members; i++)
            p += (size_t)snprintf(buf + p, sizeof(buf) - p, "%s\"k%d\":%d", i ? "," : "", i, i);
        buf[p++] = '}';
        buf[p] = '\0';
        sipnats_status s = parse(buf, &o, NULL, 0);
        CHECK(members == 64 ? s == SIPNATS_OK && o.count == 64 : s == SIPNATS_ERR_PROTOCOL);
    }
}

static void test_random_bytes_never_crash(void)
{
    /* Deterministic pseudo-random mutations of a valid document. */
    const char *seed = "{\"v\":1,\"event\":\"offer\",\"call\":\"c1\",\"sdp\":\"v=0\\r\\n\",\"dtmf\":{\"digit\":\"5\"}}";
    size_t n = strlen(seed);
    char buf[256];
    uint32_t x = 12345;
    int accepted = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, seed, n);
        for (int k = 0; k < 3; k++) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % n;
            x = x * 1103515245u + 12345u;
            buf[at] = (char)(x >> 16);
        }
        sipnats_json_object o;
        if (sipnats_json_parse_object(buf, n, 1024, &o, NULL, 0) == SIPNATS_OK) {
            char s[64];
            accepted++;
            (void)sipnats_json_get_string(&o, "call", s, sizeof(s), NULL);
        }
    }
    CHECK(accepted < 3000);
}

const test_case json_tests[] = {
    {"reads strings, numbers, booleans, nested objects", test_reads_fields},
    {"refuses malformed documents with a reason", test_refuses_malformed},
    {"refuses NUL, truncation, oversize; int64 bounds", test_refuses_nul_truncation_and_size},
    {"bounds nesting depth and member count", test_bounds_depth_and_members},
    {"mutated input never crashes", test_random_bytes_never_crash},
};
const size_t json_tests_count = sizeof(json_tests) / sizeof(json_tests[0]);
