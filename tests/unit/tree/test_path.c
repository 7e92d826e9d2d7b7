/* Path validation: PathUtils.validatePath cases (PathUtilsTest and ZooKeeperTest). */
#include "t.h"

#include "tree/tree.h"

struct pcase {
    const char *path;
    bool seq;
    bool valid;
};

static const struct pcase cases[] = {
    {"/", false, true},
    {"/a", false, true},
    {"/a/b", false, true},
    {"/a/b/c", false, true},
    {"/this is / a valid/path", false, true},
    {"/name/with.period.", false, true},
    {"/test.", false, true},
    {"/.test", false, true},
    {"/..test", false, true},
    {"/test..", false, true},
    {"/a.b/..c/d..", false, true},
    {"/...", false, true},
    {"/\xc3\xa9t\xc3\xa9", false, true}, /* U+00E9: fine */
    {"/\xe2\x82\xac", false, true},      /* U+20AC */
    {"/\xef\xbf\xaf", false, true},      /* U+FFEF: below U+FFF0 */
    {"/\xef\xa3\xbf", false, false},     /* U+F8FF: private use */
    {"/\xee\x80\x80", false, false},     /* U+E000 */
    {"/\xef\xbf\xb0", false, false},     /* U+FFF0 */
    {"/\xef\xbf\xbd", false, false},     /* U+FFFD (what Java makes of bad UTF-8) */
    {"/\xf0\x9f\x98\x80", false, false}, /* U+1F600: a surrogate pair in Java */
    {"/\xc2\x80", false, false},         /* U+0080: C1 control */
    {"/\xc2\x9f", false, false},         /* U+009F */
    {"/\xc2\xa0", false, true},          /* U+00A0 */
    {"/\x7f", false, false},             /* DEL */
    {"/\x01", false, false},
    {"/a\x1f", false, false},
    {"/a\tb", false, false},
    {"/\xff", false, false},         /* malformed UTF-8 */
    {"/\xc3", false, false},         /* truncated */
    {"/\xc0\xaf", false, false},     /* overlong '/' */
    {"/\xed\xa0\x80", false, false}, /* encoded surrogate */
    {"", false, false},
    {"a", false, false},
    {"a/b", false, false},
    {"//", false, false},
    {"///", false, false},
    {"/a/", false, false},
    {"/a//b", false, false},
    {"//a", false, false},
    {"/.", false, false},
    {"/..", false, false},
    {"/./a", false, false},
    {"/../a", false, false},
    {"/a/.", false, false},
    {"/a/..", false, false},
    {"/a/./b", false, false},
    {"/a/../b", false, false},
    /* sequential: validatePath(path + "1") */
    {"/a/", true, true},
    {"/", true, true},
    {"/a", true, true},
    {"/.", true, true},  /* "/.1" */
    {"/..", true, true}, /* "/..1" */
    {"/a/.", true, true},
    {"//", true, false}, /* "//1" */
    {"/a//", true, false},
    {"a/", true, false},
    {"", true, false},
    {"/./", true, false}, /* "/./1" */
    {"/../", true, false},
    {"/a\x01/", true, false},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = tree_path_valid(cases[i].path, cases[i].seq);
        if (got != cases[i].valid)
            fprintf(stderr, "case %zu \"%s\" seq=%d: got %d\n", i, cases[i].path, cases[i].seq,
                    got);
        CHECK(got == cases[i].valid);
    }
    CHECK(!tree_path_valid(NULL, false));
}

static void test_long(void)
{
    static char buf[70000];
    buf[0] = '/';
    memset(buf + 1, 'x', sizeof(buf) - 2);
    buf[sizeof(buf) - 1] = '\0';
    CHECK(tree_path_valid(buf, false));
    CHECK(tree_path_valid(buf, true));
    buf[sizeof(buf) - 2] = '/';
    CHECK(!tree_path_valid(buf, false));
    CHECK(tree_path_valid(buf, true));
}

int main(void)
{
    RUN(test_table);
    RUN(test_long);
    return t_done();
}
