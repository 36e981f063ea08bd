/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _IPCU_DEBUGFS_H
#define _IPCU_DEBUGFS_H

void ipcu_debugfs_init(void);
void ipcu_debugfs_exit(void);

#endif /* _IPCU_DEBUGFS_H */
