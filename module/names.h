/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_NAMES_H
#define _IPCU_NAMES_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <uapi/linux/ipcunit.h>

struct ipc_namespace;

/* Name spaces: channels and regions do not see each other's names. */
enum ipcu_name_kind {
	IPCU_NAME_CHAN,
	IPCU_NAME_REGION,
};

/**
 * struct ipcu_name - identity and permissions of a named object
 * @node: in the name table, protected by ipcu_names_lock.
 * @ns: IPC namespace (a reference), NULL while unnamed.
 * @kind: enum ipcu_name_kind.
 * @uid: owner (creator's euid).
 * @gid: group (creator's egid).
 * @mode: permission bits, 0..0777.
 * @name: the name.
 *
 * Embedded in the object; immutable once published by ipcu_name_publish().
 */
struct ipcu_name {
	struct hlist_node node;
	struct ipc_namespace *ns;
	u32 kind;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	char name[IPCU_NAME_MAX];
};

extern struct mutex ipcu_names_lock;

void ipcu_name_init(struct ipcu_name *n, u32 kind, umode_t mode);
int ipcu_name_from_user(char *name, u64 uptr);
int ipcu_name_publish(struct ipcu_name *n, const char *name);
void ipcu_name_unpublish(struct ipcu_name *n);
struct ipcu_name *ipcu_name_find(u32 kind, const char *name);
bool ipcu_name_permitted(const struct ipcu_name *n, int may);
void ipcu_name_release(struct ipcu_name *n);

#endif /* _IPCU_NAMES_H */
