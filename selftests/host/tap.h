/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal kselftest-style TAP harness for the host tests, which run
 * without a kernel module and without kernel sources.
 *
 *	TAP_TEST(name) { ASSERT_EQ(f(), 0); }
 *	int main(void) { return tap_main(); }
 *
 * A failed ASSERT_* prints a diagnostic and ends the current test (from
 * any function it calls, by longjmp()); it must not be used in other
 * threads.
 */
#ifndef IPCU_HOST_TAP_H
#define IPCU_HOST_TAP_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_MAX_TESTS	64

static struct tap_test tap_tests[TAP_MAX_TESTS];
static unsigned int tap_nr_tests;
static jmp_buf tap_abort;

static inline void tap_register(const char *name, void (*fn)(void))
{
	if (tap_nr_tests == TAP_MAX_TESTS) {
		fprintf(stderr, "tap: too many tests\n");
		exit(1);
	}
	tap_tests[tap_nr_tests].name = name;
	tap_tests[tap_nr_tests].fn = fn;
	tap_nr_tests++;
}

/* Tests run in the order they appear in the file. */
#define TAP_TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		tap_register(#name, test_##name);			\
	}								\
	static void test_##name(void)

static inline void tap_fail(const char *file, int line, const char *what)
{
	printf("# %s:%d: %s\n", file, line, what);
	fflush(stdout);
	longjmp(tap_abort, 1);
}

#define ASSERT_TRUE(cond)						\
	do {								\
		if (!(cond))						\
			tap_fail(__FILE__, __LINE__, "expected " #cond); \
	} while (0)

#define ASSERT_FALSE(cond)	ASSERT_TRUE(!(cond))

#define ASSERT_OP(a, op, b)						\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (!(_a op _b)) {					\
			printf("# %s:%d: %s " #op " %s: %lld vs %lld\n", \
			       __FILE__, __LINE__, #a, #b, _a, _b);	\
			fflush(stdout);					\
			longjmp(tap_abort, 1);				\
		}							\
	} while (0)

#define ASSERT_EQ(a, b)		ASSERT_OP(a, ==, b)
#define ASSERT_NE(a, b)		ASSERT_OP(a, !=, b)
#define ASSERT_LE(a, b)		ASSERT_OP(a, <=, b)
#define ASSERT_LT(a, b)		ASSERT_OP(a, <, b)
#define ASSERT_GE(a, b)		ASSERT_OP(a, >=, b)

/* Print a diagnostic line, TAP style. */
#define tap_info(...)							\
	do {								\
		printf("# " __VA_ARGS__);				\
		putchar('\n');						\
	} while (0)

/* Run one test: 1 if it passed. */
static inline int tap_run(const struct tap_test *t)
{
	fflush(stdout);
	if (setjmp(tap_abort))
		return 0;
	t->fn();
	return 1;
}

static inline int tap_main(void)
{
	unsigned int i, pass = 0, fail = 0;

	printf("TAP version 13\n1..%u\n", tap_nr_tests);
	for (i = 0; i < tap_nr_tests; i++) {
		int ok = tap_run(&tap_tests[i]);

		printf("%sok %u %s\n", ok ? "" : "not ", i + 1,
		       tap_tests[i].name);
		fflush(stdout);
		if (ok)
			pass++;
		else
			fail++;
	}
	printf("# Totals: pass:%u fail:%u skip:0\n", pass, fail);
	fflush(stdout);
	return fail ? 1 : 0;
}

#endif /* IPCU_HOST_TAP_H */
