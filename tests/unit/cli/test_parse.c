/* The zkCli command-line tokenizer, commons-cli option rules, Java integer
 * parsing and the completion split (src/cli/parse.c). */
#include "cli/cli_int.h"
#include "common/alloc.h"
#include "t.h"

/* Tokenizes line and checks the words, given as one string joined with '|'. */
static void check_tokens(const char *line, const char *want)
{
    struct cli_argv a;
    CHECK_EQ_INT(cli_tokenize(line, &a), 0);
    char got[512] = "";
    for (int i = 0; i < a.argc; i++) {
        if (i)
            strcat(got, "|");
        strcat(got, a.argv[i]);
    }
    CHECK_EQ_STR(got, want);
    CHECK(a.argv == NULL || a.argv[a.argc] == NULL);
    cli_argv_free(&a);
}

static void test_tokenize(void)
{
    check_tokens("ls /", "ls|/");
    check_tokens("  ls   -s\t/a  ", "ls|-s|/a");
    check_tokens("create /a \"with space\"", "create|/a|with space");
    check_tokens("create /a 'single q'", "create|/a|single q");
    check_tokens("create /a \"\"", "create|/a|");
    check_tokens("create /a a\"b", "create|/a|a\"b");
    /* a quote without its partner is skipped */
    check_tokens("create /a \"unterminated", "create|/a|unterminated");
    /* a quoted string ends a word: "a b"c is two words */
    check_tokens("set /a \"a b\"c", "set|/a|a b|c");
    check_tokens("", "");
    check_tokens("   ", " ");
}

static void test_options(void)
{
    char *argv1[] = {"ls", "-s", "-w", "/a", NULL};
    struct cli_opts o;
    CHECK_EQ_INT(cli_opts_parse(&o, "?swR", 4, argv1), 0);
    CHECK(cli_opt_has(&o, 's') && cli_opt_has(&o, 'w') && !cli_opt_has(&o, 'R'));
    CHECK_EQ_INT(o.nargs, 2);
    CHECK_EQ_STR(o.args[0], "ls");
    CHECK_EQ_STR(o.args[1], "/a");

    /* bundled flags, a value glued on or separate, options after arguments */
    char *argv2[] = {"set", "/a", "x", "-sv5", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "sv:", 4, argv2), 0);
    CHECK(cli_opt_has(&o, 's'));
    CHECK_EQ_STR(o.value['v'], "5");
    CHECK_EQ_INT(o.nargs, 3);
    char *argv3[] = {"set", "-v", "-1", "/a", "x", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "sv:", 5, argv3), 0);
    CHECK_EQ_STR(o.value['v'], "-1");

    /* the messages zkCli prints */
    char *argv4[] = {"ls", "-x", "/", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "?swR", 3, argv4), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x");
    char *argv5[] = {"ls", "-sx", "/", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "?swR", 3, argv5), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx");
    char *argv6[] = {"set", "-v", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "sv:", 2, argv6), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v");
    char *argv7[] = {"set", "/a", "-1", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "sv:", 3, argv7), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1");
    char *argv8[] = {"ls", "--long", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "?swR", 2, argv8), -1);

    /* "--" ends options; "-" alone is an argument */
    char *argv9[] = {"ls", "--", "-s", "-", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "?swR", 4, argv9), 0);
    CHECK(!cli_opt_has(&o, 's'));
    CHECK_EQ_INT(o.nargs, 3);
    CHECK_EQ_STR(o.args[1], "-s");
    CHECK_EQ_STR(o.args[2], "-");
}

static void test_option_group(void)
{
    struct cli_opts o;
    /* one of a group: fine, also twice, also glued or bundled with an option outside it */
    char *argv1[] = {"setquota", "-n", "5", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 4, argv1), 0);
    CHECK_EQ_STR(o.value['n'], "5");
    CHECK(!cli_opt_has(&o, 'b') && !cli_opt_has(&o, 'N') && !cli_opt_has(&o, 'B'));
    CHECK_EQ_INT(o.nargs, 2);
    char *argv2[] = {"setquota", "-N7", "/a", "-N", "8", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 5, argv2), 0);
    CHECK_EQ_STR(o.value['N'], "7");
    char *argv3[] = {"x", "-sb", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "s(nb)", 3, argv3), 0);
    CHECK(cli_opt_has(&o, 's') && cli_opt_has(&o, 'b'));
    /* none of it: the command checks a required group */
    char *argv4[] = {"setquota", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 2, argv4), 0);
    CHECK(!cli_opt_has(&o, 'n'));

    /* two of it: AlreadySelectedException, naming the second and the first */
    char *argv5[] = {"setquota", "-n", "5", "-b", "6", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 6, argv5), -1);
    CHECK_EQ_STR(o.errmsg, "org.apache.commons.cli.AlreadySelectedException: The option 'b' was "
                           "specified but an option from this group has already been selected: "
                           "'n'");
    char *argv6[] = {"delquota", "-Bn", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(nbNB)", 3, argv6), -1);
    CHECK_EQ_STR(o.errmsg, "org.apache.commons.cli.AlreadySelectedException: The option 'n' was "
                           "specified but an option from this group has already been selected: "
                           "'B'");
    /* a value still missing is reported first */
    char *argv7[] = {"setquota", "-n", "-b", "6", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 5, argv7), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.MissingArgumentException: Missing argument for option: n");
    /* a negative number is a value; the parentheses are no options */
    char *argv8[] = {"setquota", "-b", "-1", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(n:b:N:B:)", 4, argv8), 0);
    CHECK_EQ_STR(o.value['b'], "-1");
    char *argv9[] = {"delquota", "-(", "/a", NULL};
    CHECK_EQ_INT(cli_opts_parse(&o, "(nbNB)", 3, argv9), -1);
    CHECK_EQ_STR(o.errmsg,
                 "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -(");
}

static void test_integers(void)
{
    int32_t i;
    int64_t l;
    CHECK(cli_parse_int("42", &i) && i == 42);
    CHECK(cli_parse_int("-1", &i) && i == -1);
    CHECK(cli_parse_int("+7", &i) && i == 7);
    CHECK(cli_parse_int("-2147483648", &i) && i == INT32_MIN);
    CHECK(!cli_parse_int("2147483648", &i));
    CHECK(!cli_parse_int("abc", &i));
    CHECK(!cli_parse_int("", &i));
    CHECK(!cli_parse_int("1 ", &i));
    CHECK(cli_parse_long("1099511627775", &l) && l == 1099511627775LL);
    CHECK(cli_parse_long("-9223372036854775808", &l) && l == INT64_MIN);
    CHECK(!cli_parse_long("9223372036854775808", &l));
    CHECK(cli_decode_int("0x10", &i) && i == 16);
    CHECK(cli_decode_int("#f", &i) && i == 15);
    CHECK(cli_decode_int("010", &i) && i == 8);
    CHECK(cli_decode_int("0", &i) && i == 0);
    CHECK(cli_decode_int("-3", &i) && i == -3);
    CHECK(!cli_decode_int("abc", &i));
    CHECK(!cli_decode_int("09", &i));
}

static void check_split(const char *token, const char *dir, const char *prefix)
{
    char *d;
    const char *p;
    CHECK_EQ_INT(cli_complete_split(token, &d, &p), 0);
    if (dir)
        CHECK_EQ_STR(d, dir);
    else
        CHECK(d == NULL);
    CHECK_EQ_STR(p, prefix);
    pd_free(d);
}

static void test_complete_split(void)
{
    check_split("/", "/", "");
    check_split("/zoo", "/", "zoo");
    check_split("/zookeeper/", "/zookeeper", "");
    check_split("/zookeeper/con", "/zookeeper", "con");
    check_split("/a/b/c", "/a/b", "c");
    check_split("ls", NULL, "ls");
}

int main(void)
{
    RUN(test_tokenize);
    RUN(test_options);
    RUN(test_option_group);
    RUN(test_integers);
    RUN(test_complete_split);
    return t_done();
}
