/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The little of the kernel's <linux/types.h> that module/ring.c uses,
 * for building it in user space.  Force-included (-include).
 */
#ifndef IPCU_HOST_KERNEL_H
#define IPCU_HOST_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

typedef __u32 u32;
typedef __u64 u64;

#endif /* IPCU_HOST_KERNEL_H */
