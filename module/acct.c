// SPDX-License-Identifier: GPL-2.0
/*
 * Per-user limits on channels and bytes, and module-wide counters.
 *
 * Memory itself is charged to the creator's memory cgroup by the
 * allocations (GFP_KERNEL_ACCOUNT); the limits here bound what one user can
 * pin through ipcunit regardless of cgroup setup.  Exceeding either limit is
 * -ENOSPC, so -ENOMEM always means a real allocation failure.
 *
 * Locking: users_lock protects the users hash and every ipcu_user field.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hashtable.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "acct.h"

static unsigned int max_objects_per_user = 1024;
module_param(max_objects_per_user, uint, 0644);
MODULE_PARM_DESC(max_objects_per_user,
		 "Channels and regions one user may own at once (default 1024)");

static unsigned long max_bytes_per_user = 2UL << 30;
module_param(max_bytes_per_user, ulong, 0644);
MODULE_PARM_DESC(max_bytes_per_user,
		 "Bytes of channels and regions (clones count in full) one user may own at once (default 2 GiB)");

struct ipcu_counters ipcu_stats;

/**
 * struct ipcu_user - what one uid owns
 * @node: in users_hash.
 * @uid: owner.
 * @objects: live objects charged, protected by users_lock.
 * @bytes: bytes charged, protected by users_lock.
 */
struct ipcu_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int objects;
	u64 bytes;
};

static DEFINE_MUTEX(users_lock);
static DEFINE_HASHTABLE(users_hash, 6);

static struct ipcu_user *user_find(kuid_t uid)
{
	struct ipcu_user *user;

	lockdep_assert_held(&users_lock);
	hash_for_each_possible(users_hash, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/**
 * ipcu_acct_charge - charge one object of @bytes bytes to @uid
 * @uid: the owner
 * @bytes: memory the object pins
 *
 * Return: the user record to pass to ipcu_acct_uncharge(), or
 * ERR_PTR(-ENOSPC) over a limit, or ERR_PTR(-ENOMEM).
 */
struct ipcu_user *ipcu_acct_charge(kuid_t uid, u64 bytes)
{
	struct ipcu_user *user, *fresh;
	unsigned int max_objects = READ_ONCE(max_objects_per_user);
	u64 max_bytes = READ_ONCE(max_bytes_per_user);

	/* Allocate outside the lock; most calls find an existing record. */
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&users_lock);
	user = user_find(uid);
	if (!user) {
		user = fresh;
		fresh = NULL;
		user->uid = uid;
		hash_add(users_hash, &user->node, __kuid_val(uid));
		atomic_long_inc(&ipcu_stats.users);
	}
	if (user->objects >= max_objects || bytes > max_bytes ||
	    user->bytes > max_bytes - bytes) {
		if (!user->objects) {
			hash_del(&user->node);
			atomic_long_dec(&ipcu_stats.users);
			kfree(user);
		}
		user = ERR_PTR(-ENOSPC);
	} else {
		user->objects++;
		user->bytes += bytes;
	}
	mutex_unlock(&users_lock);
	kfree(fresh);
	return user;
}

/**
 * ipcu_acct_uncharge - undo ipcu_acct_charge()
 * @user: the record ipcu_acct_charge() returned
 * @bytes: the same byte count
 */
void ipcu_acct_uncharge(struct ipcu_user *user, u64 bytes)
{
	mutex_lock(&users_lock);
	if (!WARN_ON_ONCE(!user->objects || user->bytes < bytes)) {
		user->objects--;
		user->bytes -= bytes;
	}
	if (!user->objects) {
		hash_del(&user->node);
		atomic_long_dec(&ipcu_stats.users);
		kfree(user);
	}
	mutex_unlock(&users_lock);
}

/**
 * ipcu_acct_exit - module unload check: every object must be gone
 */
void ipcu_acct_exit(void)
{
	WARN_ON_ONCE(!hash_empty(users_hash));
}
