/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_ACCT_H
#define _IPCU_ACCT_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/uidgid.h>

struct ipcu_user;

/**
 * struct ipcu_counters - module-wide live object counters
 * @channels: live channels.
 * @endpoints: open endpoint files.
 * @regions: live regions (clones included).
 * @pages: distinct pages allocated (a page shared by clones counts once).
 * @users: per-user accounting records.
 *
 * They return to their load-time values when everything is freed, which
 * the leak tests check (kmemleak does not track page allocations).
 */
struct ipcu_counters {
	atomic_long_t channels;
	atomic_long_t endpoints;
	atomic_long_t regions;
	atomic_long_t pages;
	atomic_long_t users;
};

extern struct ipcu_counters ipcu_stats;

struct ipcu_user *ipcu_acct_charge(kuid_t uid, u64 bytes);
void ipcu_acct_uncharge(struct ipcu_user *user, u64 bytes);
void ipcu_acct_exit(void);

#endif /* _IPCU_ACCT_H */
