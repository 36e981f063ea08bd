// SPDX-License-Identifier: GPL-2.0
/*
 * Names of channels and regions: scoped to the creator's IPC namespace,
 * owned by the creator's euid/egid with a mode, checked with SysV IPC's
 * rule against the caller's fsuid/fsgid, CAP_IPC_OWNER overriding.
 *
 * Locking: ipcu_names_lock protects the table.  Objects drop their last
 * reference with kref_put_mutex(..., &ipcu_names_lock) and unpublish under
 * it, so a lookup never returns an object whose count reached zero.
 * Nothing that may fault on user memory runs under the lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/ipc_namespace.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/stringhash.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "compat.h"
#include "names.h"

/* Protects names_hash; see above. */
DEFINE_MUTEX(ipcu_names_lock);
static DEFINE_HASHTABLE(names_hash, 7);

/**
 * ipcu_name_init - prepare an unnamed identity owned by the caller
 * @n: the embedded name
 * @kind: enum ipcu_name_kind
 * @mode: permission bits
 */
void ipcu_name_init(struct ipcu_name *n, u32 kind, umode_t mode)
{
	INIT_HLIST_NODE(&n->node);
	n->kind = kind;
	n->uid = current_euid();
	n->gid = current_egid();
	n->mode = mode;
}

/**
 * ipcu_name_from_user - copy and validate a name
 * @name: IPCU_NAME_MAX bytes
 * @uptr: user pointer
 *
 * Valid names are 1..IPCU_NAME_MAX-1 bytes of [A-Za-z0-9._-].
 *
 * Return: 0, -EFAULT, -ENAMETOOLONG or -EINVAL.
 */
int ipcu_name_from_user(char *name, u64 uptr)
{
	long len;
	int i;

	len = strncpy_from_user(name, u64_to_user_ptr(uptr), IPCU_NAME_MAX);
	if (len < 0)
		return len;
	if (len == IPCU_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -EINVAL;
	/* The kernel's ctype is Latin-1: insist on ASCII first. */
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) ||
		    (!isalnum(name[i]) && !strchr("._-", name[i])))
			return -EINVAL;
	return 0;
}

static u32 name_hash(const struct ipc_namespace *ns, u32 kind,
		     const char *name)
{
	return full_name_hash(ns, name, strlen(name)) ^ kind;
}

static struct ipcu_name *name_lookup(struct ipc_namespace *ns, u32 kind,
				     const char *name)
{
	struct ipcu_name *n;

	lockdep_assert_held(&ipcu_names_lock);
	hash_for_each_possible(names_hash, n, node, name_hash(ns, kind, name))
		if (n->ns == ns && n->kind == kind && !strcmp(n->name, name))
			return n;
	return NULL;
}

/**
 * ipcu_name_publish - make an object findable in the caller's namespace
 * @n: the object's name, from ipcu_name_init()
 * @name: a name validated by ipcu_name_from_user()
 *
 * Return: 0 or -EEXIST.
 */
int ipcu_name_publish(struct ipcu_name *n, const char *name)
{
	struct ipc_namespace *ns = current->nsproxy->ipc_ns;

	strscpy(n->name, name, sizeof(n->name));
	mutex_lock(&ipcu_names_lock);
	if (name_lookup(ns, n->kind, name)) {
		mutex_unlock(&ipcu_names_lock);
		return -EEXIST;
	}
	n->ns = ipcu_get_ipc_ns(ns);
	hash_add(names_hash, &n->node, name_hash(ns, n->kind, name));
	mutex_unlock(&ipcu_names_lock);
	return 0;
}

/**
 * ipcu_name_unpublish - remove from the table
 * @n: the name; caller holds ipcu_names_lock
 */
void ipcu_name_unpublish(struct ipcu_name *n)
{
	lockdep_assert_held(&ipcu_names_lock);
	if (!hlist_unhashed(&n->node))
		hash_del(&n->node);
}

/**
 * ipcu_name_release - drop the namespace reference of a dead object
 * @n: the name, already unpublished
 */
void ipcu_name_release(struct ipcu_name *n)
{
	if (n->ns)
		ipcu_put_ipc_ns(n->ns);
}

/**
 * ipcu_name_find - look a name up in the caller's IPC namespace
 * @kind: enum ipcu_name_kind
 * @name: the name
 *
 * Caller holds ipcu_names_lock and takes its own object reference.
 *
 * Return: the name or NULL.
 */
struct ipcu_name *ipcu_name_find(u32 kind, const char *name)
{
	return name_lookup(current->nsproxy->ipc_ns, kind, name);
}

/**
 * ipcu_name_permitted - SysV ipcperms() with the caller's fsuid/fsgid
 * @n: the object's name
 * @may: MAY_READ and/or MAY_WRITE
 *
 * Return: true if the caller may access the object so.
 */
bool ipcu_name_permitted(const struct ipcu_name *n, int may)
{
	int requested = (may & MAY_READ ? 4 : 0) | (may & MAY_WRITE ? 2 : 0);
	int granted = n->mode;

	if (uid_eq(current_fsuid(), n->uid))
		granted >>= 6;
	else if (in_group_p(n->gid))
		granted >>= 3;
	if ((granted & requested) == requested)
		return true;
	return ns_capable(n->ns->user_ns, CAP_IPC_OWNER);
}
