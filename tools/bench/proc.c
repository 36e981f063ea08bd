// SPDX-License-Identifier: GPL-2.0
/*
 * Processes: every measurement runs in a forked process group under a
 * watchdog (run_isolated()), and a two-sided measurement forks once more
 * (pair_run()).  The two sides and the parent share one page (struct
 * shared) for hand-shakes, timestamps, counters and the first error.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench.h"

static struct shared *sh;

struct shared *shared_get(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED) {
			perror("mmap");
			exit(2);
		}
	}
	return sh;
}

void futex_wait_val(uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT, val, NULL, NULL, 0);
}

void futex_wake_all(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* Two parties; sleeps (never spins), so it is fair on one CPU. */
void barrier_wait(struct shared *s)
{
	uint32_t gen = __atomic_load_n(&s->barrier_gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&s->barrier_count, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&s->barrier_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->barrier_gen, gen + 1, __ATOMIC_RELEASE);
		futex_wake_all(&s->barrier_gen);
		return;
	}
	while (__atomic_load_n(&s->barrier_gen, __ATOMIC_ACQUIRE) == gen)
		futex_wait_val(&s->barrier_gen, gen);
}

void pin_cpu(unsigned int cpu)
{
	cpu_set_t set;

	if (opt.ncpus < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % opt.ncpus, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void side_error(const char *fmt, ...)
{
	struct shared *s = shared_get();
	char buf[sizeof(s->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ipcunit-bench: [%d] %s\n", getpid(), buf);
	if (!s->err[0])
		memcpy(s->err, buf, sizeof(buf));
}

static void note_append(struct shared *s, const char *fmt, int v)
{
	size_t n = strlen(s->err);

	if (n < sizeof(s->err) - 1)
		snprintf(s->err + n, sizeof(s->err) - n, fmt, v);
}

/* Side 1 in a child, side 0 here; a failing side takes the other down. */
int pair_run(int (*fn)(void *arg, int side), void *arg)
{
	struct shared *s = shared_get();
	int status, ret;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		side_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sys_calls = 0;
		ret = fn(arg, 1);
		if (ret) {
			if (!s->err[0])
				side_error("side 1 failed: %d", ret);
			kill(getppid(), SIGKILL);
		}
		_exit(ret ? 1 : 0);
	}
	sys_calls = 0;
	ret = fn(arg, 0);
	if (ret) {
		if (!s->err[0])
			side_error("side 0 failed: %d", ret);
		kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) < 0 ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		if (!s->err[0])
			side_error("side 1 failed");
		/* A side killed by a signal leaves no message of its own. */
		if (WIFSIGNALED(status) && (!ret || WTERMSIG(status) != SIGKILL))
			note_append(s, " [side 1: signal %d]", WTERMSIG(status));
		ret = -1;
	}
	return ret ? -1 : 0;
}

int run_isolated(int (*fn)(void *arg), void *arg, unsigned int timeout_s)
{
	struct shared *s = shared_get();
	struct timespec ts = { .tv_sec = timeout_s };
	sigset_t set, old;
	siginfo_t info;
	int status = 0;
	pid_t pid;

	memset(s, 0, sizeof(*s));
	fflush(NULL);
	/*
	 * Wait for SIGCHLD with one timer rather than polling: under icount
	 * a parent that wakes up periodically would add its instructions to
	 * every measurement.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		snprintf(s->err, sizeof(s->err), "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setpgid(0, 0);
		icount_align();
		_exit(fn(arg) ? 1 : 0);
	}
	setpgid(pid, pid);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (sigtimedwait(&set, &info, &ts) < 0 && errno == EAGAIN) {
			killpg(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(s->err, sizeof(s->err),
				 "timeout: no result within %u s", timeout_s);
			sigprocmask(SIG_SETMASK, &old, NULL);
			return -1;
		}
	}
	/* Whatever a side left behind (it should have left nothing). */
	killpg(pid, SIGKILL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!s->err[0])
		snprintf(s->err, sizeof(s->err), "measurement process failed");
	if (WIFSIGNALED(status))
		note_append(s, " [killed by signal %d]", WTERMSIG(status));
	return -1;
}
