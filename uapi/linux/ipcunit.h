/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ipcunit: zero-copy local IPC channels.
 *
 * Protocol overview
 * =================
 *
 * Programs open /dev/ipcunit (the "device fd") and create a channel with
 * IPCU_IOC_CHAN_CREATE.  A channel has exactly two endpoints, a producer and
 * a consumer.  Each endpoint is an anonymous file descriptor (O_CLOEXEC);
 * the creator receives the endpoint of the role it asked for.  The other
 * side obtains the opposite endpoint by
 *
 *   - IPCU_IOC_CHAN_ATTACH with the channel's name (named channels only;
 *     names live in the creator's IPC namespace and carry an owner uid/gid
 *     and a mode, checked with SysV IPC's rule against the caller's
 *     fsuid/fsgid; CAP_IPC_OWNER overrides it),
 *   - IPCU_IOC_EP_PEER on an endpoint it already holds (like socketpair()),
 *   - receiving an endpoint fd over a Unix socket (SCM_RIGHTS).
 *
 * A role is held by one open file at a time: a second attach for a held role
 * is -EBUSY.  A role is released when the last reference to its endpoint
 * file goes away: the last fd is closed and the last mapping of that file is
 * unmapped (or the process dies).  The other side then sees EPOLLHUP and its
 * IPCU_EV_PEER_GONE eventfd fires.
 *
 * Memory layout
 * -------------
 *
 * An endpoint fd is mmap()ed (MAP_SHARED only) at offsets reported by
 * IPCU_IOC_EP_INFO:
 *
 *   cons_ctrl_off  one page, struct ipcu_cons_ctrl: written by the consumer
 *   prod_ctrl_off  one page, struct ipcu_prod_ctrl: written by the producer
 *   desc_off       ring_entries * struct ipcu_desc: written by the producer
 *   payload_off    payload_bytes of message data: written by the producer
 *
 * Every area is shared by both endpoints: nothing is copied.  A side may map
 * with PROT_WRITE only the areas it writes (the consumer only its control
 * page; the producer everything except the consumer's control page).
 * Anything else is -EACCES, at mmap() or at a later mprotect().
 *
 * Indices
 * -------
 *
 * All indices are free-running __u32 counters that wrap modulo 2^32.
 * Descriptor i lives at desc[i & (ring_entries - 1)]; payload position p
 * lives at payload[p & (payload_bytes - 1)].  A message is contiguous in the
 * payload area: if the space reserved for it does not fit before the end of
 * the area, the producer skips to the start of the area and the skipped
 * bytes are released with the message.  (A message may be committed shorter
 * than it was reserved, so a consumer accepts a message that starts either
 * where the previous one ended, or at the next lap boundary.)  This is why
 * max_msg may be at most payload_bytes / 2.
 *
 *   producer: tail, pay_tail      consumer: head, pay_head
 *
 *   messages in flight = tail - head             <= ring_entries
 *   payload in use     = pay_tail - pay_head     <= payload_bytes
 *
 * Memory ordering (every publish is a release, every consume an acquire)
 * --------------------------------------------------------------------
 *
 *  (A) producer: write payload, write desc, store pay_tail,
 *      store-release tail.
 *      consumer: load-acquire tail, then read desc and payload.
 *  (B) consumer: done reading payload, store-release pay_head,
 *      store-release head.
 *      producer: load-acquire head, load-acquire pay_head, then reuse
 *      space.  (Either release may be the one the producer sees first.)
 *
 * Wakeups
 * -------
 *
 * The kernel is not in the data path.  A side that runs out of work sets its
 * NEED_WAKEUP flag in its own control page, executes a full memory barrier
 * and checks the ring once more before it sleeps (IPCU_IOC_WAIT or poll()).
 * The other side, after publishing (A) or (B), executes a full barrier and
 * reads the peer's flag; only if it is set does it ring the doorbell
 * (IPCU_IOC_DOORBELL, or IPCU_WAIT_DOORBELL inside IPCU_IOC_WAIT):
 *
 *   sleeper: store flag; smp_mb(); load peer index   -> sleep if no work
 *   waker:   store index; smp_mb(); load peer flag   -> doorbell if set
 *
 * At least one side observes the other's store, so no wakeup is lost, and
 * two awake processes exchange messages without any system call.  The
 * sleeper also bumps a sleep sequence kept in the same flags word, and a
 * waker rings once per value it sees: a sleeping side is woken exactly once,
 * however many messages arrive before it runs again.  The kernel
 * re-evaluates readiness from the indices after queueing the sleeper, so a
 * doorbell that arrives between the check and the sleep is not lost either.
 *
 * Untrusted shared memory
 * -----------------------
 *
 * Each side can scribble anything into the memory it may write.  The kernel
 * only reads the four indices and the producer's "want", each exactly once
 * per evaluation, and uses them for readiness only; inconsistent values give
 * EPOLLERR.  The user library validates every descriptor before use and
 * reports -EPROTO for a corrupt ring.
 */
#ifndef _UAPI_LINUX_IPCUNIT_H
#define _UAPI_LINUX_IPCUNIT_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define IPCU_DEVICE_PATH	"/dev/ipcunit"

#define IPCU_ABI_MAJOR		1
#define IPCU_ABI_MINOR		0

/* Feature bits reported by IPCU_IOC_VERSION. */
#define IPCU_FEAT_VERSION	_BITULL(0)	/* IPCU_IOC_VERSION */
#define IPCU_FEAT_CHANNEL	_BITULL(1)	/* channels, rings, mmap */
#define IPCU_FEAT_NAMES		_BITULL(2)	/* named channels, attach */
#define IPCU_FEAT_EVENTFD	_BITULL(3)	/* IPCU_IOC_EP_EVENTFD */
#define IPCU_FEAT_WAIT		_BITULL(4)	/* IPCU_IOC_WAIT, doorbell */
#define IPCU_FEAT_REGION	_BITULL(5)	/* regions, clone, seal, stats */

/* Limits. */
#define IPCU_NAME_MAX		64		/* including the NUL */
#define IPCU_RING_ENTRIES_MAX	65536U
#define IPCU_PAYLOAD_MAX	_BITULL(30)
#define IPCU_REGION_MAX		_BITULL(36)

/* Roles. */
#define IPCU_ROLE_PRODUCER	0
#define IPCU_ROLE_CONSUMER	1

/* Events for IPCU_IOC_EP_EVENTFD. */
#define IPCU_EV_DATA		0	/* consumer: producer rang the doorbell */
#define IPCU_EV_SPACE		1	/* producer: consumer rang the doorbell */
#define IPCU_EV_PEER_GONE	2	/* either: the other role was released */
#define IPCU_EV_NR		3

/* State bits in struct ipcu_ep_info.state. */
#define IPCU_STATE_PEER_PRESENT	_BITUL(0)	/* the other role is held */
#define IPCU_STATE_PEER_GONE	_BITUL(1)	/* held once, since released */

/**
 * struct ipcu_version - IPCU_IOC_VERSION
 * @flags: in, must be 0.
 * @abi_major: out, IPCU_ABI_MAJOR of the running module.
 * @abi_minor: out, IPCU_ABI_MINOR of the running module.
 * @page_size: out, the kernel's page size (mmap granularity).
 * @features: out, IPCU_FEAT_* supported by the running module.
 * @ioctls: out, bit n set if ioctl number n (_IOC_NR) is implemented.
 * @reserved: must be 0.
 */
struct ipcu_version {
	__u32 flags;
	__u32 abi_major;
	__u32 abi_minor;
	__u32 page_size;
	__u64 features;
	__u64 ioctls;
	__u64 reserved[4];
};

/**
 * struct ipcu_chan_create - IPCU_IOC_CHAN_CREATE
 * @flags: in, must be 0.
 * @ring_entries: in, descriptor slots: a power of two, 1..65536.
 * @max_msg: in, largest message in bytes: 1..payload_bytes / 2.
 * @mode: in, permission bits (0..0777) of a named channel; 0 if unnamed.
 * @payload_bytes: in, payload area: a power of two, page size..1 GiB.
 * @name: in, pointer to a NUL-terminated name, or 0 for no name.  Names are
 *	1..63 bytes of [A-Za-z0-9._-].
 * @role: in, IPCU_ROLE_* of the endpoint returned to the creator.
 * @fd: out, the endpoint file descriptor.
 * @reserved: must be 0.
 */
struct ipcu_chan_create {
	__u32 flags;
	__u32 ring_entries;
	__u32 max_msg;
	__u32 mode;
	__u64 payload_bytes;
	__u64 name;
	__u32 role;
	__s32 fd;
	__u64 reserved[3];
};

/**
 * struct ipcu_chan_attach - IPCU_IOC_CHAN_ATTACH
 * @flags: in, must be 0.
 * @role: in, IPCU_ROLE_* to attach as.  The producer needs write
 *	permission, the consumer read permission.
 * @name: in, pointer to the NUL-terminated channel name.
 * @fd: out, the endpoint file descriptor.
 * @pad: must be 0.
 * @reserved: must be 0.
 */
struct ipcu_chan_attach {
	__u32 flags;
	__u32 role;
	__u64 name;
	__s32 fd;
	__u32 pad;
	__u64 reserved[5];
};

/**
 * struct ipcu_ep_info - IPCU_IOC_EP_INFO
 * @flags: in, must be 0.
 * @role: out, IPCU_ROLE_* of this endpoint.
 * @ring_entries: out.
 * @max_msg: out.
 * @payload_bytes: out.
 * @cons_ctrl_off: out, mmap offset of struct ipcu_cons_ctrl (one page).
 * @prod_ctrl_off: out, mmap offset of struct ipcu_prod_ctrl (one page).
 * @desc_off: out, mmap offset of the descriptor ring.
 * @desc_bytes: out, size of the descriptor ring area (page multiple).
 * @payload_off: out, mmap offset of the payload area.
 * @map_bytes: out, total size of the mappable object.
 * @state: out, IPCU_STATE_* bits.
 * @pad: out, 0.
 * @doorbells: out, doorbells this endpoint's role has rung so far.
 * @sleeps: out, IPCU_IOC_WAIT calls on this role that found the endpoint
 *	not ready and were allowed to sleep (non-zero timeout).
 * @reserved: must be 0.
 */
struct ipcu_ep_info {
	__u32 flags;
	__u32 role;
	__u32 ring_entries;
	__u32 max_msg;
	__u64 payload_bytes;
	__u64 cons_ctrl_off;
	__u64 prod_ctrl_off;
	__u64 desc_off;
	__u64 desc_bytes;
	__u64 payload_off;
	__u64 map_bytes;
	__u32 state;
	__u32 pad;
	__u64 doorbells;
	__u64 sleeps;
	__u64 reserved[2];
};

/**
 * struct ipcu_ep_peer - IPCU_IOC_EP_PEER
 * @flags: in, must be 0.
 * @fd: out, a new endpoint fd for the opposite role.
 * @reserved: must be 0.
 */
struct ipcu_ep_peer {
	__u32 flags;
	__s32 fd;
	__u64 reserved[3];
};

/**
 * struct ipcu_ep_eventfd - IPCU_IOC_EP_EVENTFD
 * @flags: in, must be 0.
 * @event: in, IPCU_EV_*.  IPCU_EV_DATA is for consumers, IPCU_EV_SPACE for
 *	producers, IPCU_EV_PEER_GONE for both.
 * @fd: in, an eventfd to signal, or -1 to unregister.
 * @pad: must be 0.
 * @reserved: must be 0.
 */
struct ipcu_ep_eventfd {
	__u32 flags;
	__u32 event;
	__s32 fd;
	__u32 pad;
	__u64 reserved[2];
};

/* IPCU_IOC_WAIT flags. */
#define IPCU_WAIT_DOORBELL	_BITUL(0)	/* ring doorbell_fd first */

/**
 * struct ipcu_wait - IPCU_IOC_WAIT
 * @flags: in, IPCU_WAIT_*.
 * @doorbell_fd: in, with IPCU_WAIT_DOORBELL an endpoint fd (of any channel)
 *	whose doorbell is rung before waiting; must be -1 otherwise.
 * @timeout_ns: in, relative timeout; negative waits forever, 0 never sleeps.
 * @revents: out, EPOLL* readiness of this endpoint when the wait ended.
 * @pad: must be 0.
 * @reserved: must be 0.
 *
 * Waits until this endpoint is ready: EPOLLIN for a consumer with a message
 * to read, EPOLLOUT for a producer with room for a descriptor and for
 * prod_ctrl.want bytes, EPOLLHUP once the peer is gone, EPOLLERR for an
 * inconsistent ring.  Returns 0 with @revents set (only then is @revents
 * written back), -ETIMEDOUT, -EINTR (with a timeout), -ERESTARTSYS
 * (without one: an SA_RESTART handler restarts the call, which rings the
 * doorbell again), -EBADF/-EINVAL for a bad @doorbell_fd, or -EFAULT.
 */
struct ipcu_wait {
	__u32 flags;
	__s32 doorbell_fd;
	__s64 timeout_ns;
	__u32 revents;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * struct ipcu_region_create - IPCU_IOC_REGION_CREATE
 * @flags: in, must be 0.
 * @mode: in, permission bits (0..0777) of a named region; 0 if unnamed.
 * @size: in, bytes: a multiple of the page size, up to IPCU_REGION_MAX.
 *	Pages are allocated, zeroed, when first touched.
 * @name: in, pointer to a NUL-terminated name, or 0.  Region names are a
 *	namespace of their own, with the rules of channel names.
 * @fd: out, the region file descriptor (O_RDWR, O_CLOEXEC).
 * @pad: must be 0.
 * @reserved: must be 0.
 */
struct ipcu_region_create {
	__u32 flags;
	__u32 mode;
	__u64 size;
	__u64 name;
	__s32 fd;
	__u32 pad;
	__u64 reserved[4];
};

/* IPCU_IOC_REGION_ATTACH flags. */
#define IPCU_ATTACH_RDONLY	_BITUL(0)	/* read-only fd; needs read only */

/**
 * struct ipcu_region_attach - IPCU_IOC_REGION_ATTACH
 * @flags: in, IPCU_ATTACH_*.  Without IPCU_ATTACH_RDONLY the caller needs
 *	read and write permission and gets an O_RDWR fd.
 * @pad: must be 0.
 * @name: in, pointer to the NUL-terminated region name.
 * @fd: out, the region file descriptor (O_CLOEXEC).
 * @pad2: must be 0.
 * @reserved: must be 0.
 */
struct ipcu_region_attach {
	__u32 flags;
	__u32 pad;
	__u64 name;
	__s32 fd;
	__u32 pad2;
	__u64 reserved[5];
};

/* IPCU_IOC_CLONE flags. */
#define IPCU_CLONE_SEAL		_BITUL(0)	/* the clone is born sealed */

/**
 * struct ipcu_clone - IPCU_IOC_CLONE
 * @flags: in, IPCU_CLONE_*.
 * @fd: out, a new unnamed region (O_RDWR, O_CLOEXEC) sharing every page of
 *	the source copy-on-write: the region behind a region fd, or the
 *	payload area behind a channel endpoint fd.
 * @reserved: must be 0.
 */
struct ipcu_clone {
	__u32 flags;
	__s32 fd;
	__u64 reserved[3];
};

/* State bits in struct ipcu_region_stats.state. */
#define IPCU_REGION_SEALED	_BITUL(0)

/**
 * struct ipcu_region_stats - IPCU_IOC_REGION_STATS
 * @flags: in, must be 0.
 * @state: out, IPCU_REGION_* bits.
 * @size: out, bytes.
 * @private_pages: out, populated pages no other region shares.
 * @shared_pages: out, pages shared copy-on-write with other regions or
 *	channels.
 * @cow_copies: out, pages this region has copied on write so far.
 * @writable_maps: out, VMAs that may write: made with PROT_WRITE, counted
 *	until unmapped even if mprotect()ed read-only since; split and
 *	forked VMAs count separately.  IPCU_IOC_SEAL needs 0.
 * @reserved: must be 0.
 */
struct ipcu_region_stats {
	__u32 flags;
	__u32 state;
	__u64 size;
	__u64 private_pages;
	__u64 shared_pages;
	__u64 cow_copies;
	__u64 writable_maps;
	__u64 reserved[3];
};

/* Shared memory structures. */

/*
 * ipcu_prod_ctrl.flags and ipcu_cons_ctrl.flags: bit 0 says the side sleeps
 * (or is about to); bits 31:1 are its sleep sequence, which the side bumps
 * each time it sets IPCU_NEED_WAKEUP.  A waker that already rang the
 * doorbell for a given flags value need not ring again: one doorbell per
 * sleep, however many messages are published meanwhile.  A producer waits
 * for room for its @want bytes (stored before the flag, with release): a
 * consumer rings for a producer's sleep once that room exists, since the
 * kernel keeps the producer asleep until then.
 */
#define IPCU_NEED_WAKEUP	_BITUL(0)
#define IPCU_SLEEP_SEQ_SHIFT	1

/**
 * struct ipcu_prod_ctrl - the producer's control page
 * @tail: next descriptor index to fill; store-release after the descriptor
 *	and payload are written.
 * @pay_tail: payload position after the last committed message; stored
 *	before @tail.
 * @flags: IPCU_NEED_WAKEUP while the producer waits for space.
 * @want: contiguous payload bytes the producer waits for (0 means 1).
 *
 * Written by the producer only, read by the consumer and the kernel.
 */
struct ipcu_prod_ctrl {
	__u32 tail;
	__u32 pay_tail;
	__u32 flags;
	__u32 want;
};

/**
 * struct ipcu_cons_ctrl - the consumer's control page
 * @head: next descriptor index to consume; store-release after the payload
 *	of every consumed message is no longer read.
 * @pay_head: payload position up to which space is released; stored before
 *	@head.
 * @flags: IPCU_NEED_WAKEUP while the consumer waits for data.
 * @pad: 0.
 *
 * Written by the consumer only, read by the producer and the kernel.
 */
struct ipcu_cons_ctrl {
	__u32 head;
	__u32 pay_head;
	__u32 flags;
	__u32 pad;
};

/**
 * struct ipcu_desc - one message descriptor
 * @pos: free-running payload position of the message's first byte.
 * @len: length in bytes, 1..max_msg.
 * @flags: 0.  Consumers refuse descriptors with flags they do not know.
 * @tag: free for the application.
 */
struct ipcu_desc {
	__u32 pos;
	__u32 len;
	__u32 flags;
	__u32 tag;
};

/*
 * ioctls.  Structures are extensible: the size encoded in the command is
 * the size the caller was built with.  A shorter (older) structure is
 * zero-extended down to the structure's first published size (shorter than
 * that is -EINVAL: for ABI 1.0 that is the size defined here); a longer one
 * must have an all-zero tail, else -E2BIG.
 */
#define IPCU_IOC_MAGIC		0xB9

/* On the device fd (/dev/ipcunit). */
#define IPCU_IOC_VERSION	_IOWR(IPCU_IOC_MAGIC, 0x00, struct ipcu_version)
#define IPCU_IOC_CHAN_CREATE	_IOWR(IPCU_IOC_MAGIC, 0x01, struct ipcu_chan_create)
#define IPCU_IOC_CHAN_ATTACH	_IOWR(IPCU_IOC_MAGIC, 0x02, struct ipcu_chan_attach)
#define IPCU_IOC_REGION_CREATE	_IOWR(IPCU_IOC_MAGIC, 0x03, struct ipcu_region_create)
#define IPCU_IOC_REGION_ATTACH	_IOWR(IPCU_IOC_MAGIC, 0x04, struct ipcu_region_attach)

/* On an endpoint fd. */
#define IPCU_IOC_EP_INFO	_IOWR(IPCU_IOC_MAGIC, 0x10, struct ipcu_ep_info)
#define IPCU_IOC_EP_PEER	_IOWR(IPCU_IOC_MAGIC, 0x11, struct ipcu_ep_peer)
#define IPCU_IOC_EP_EVENTFD	_IOW(IPCU_IOC_MAGIC, 0x12, struct ipcu_ep_eventfd)
/* The argument is a flags word (must be 0), not a pointer. */
#define IPCU_IOC_DOORBELL	_IO(IPCU_IOC_MAGIC, 0x13)
#define IPCU_IOC_WAIT		_IOWR(IPCU_IOC_MAGIC, 0x14, struct ipcu_wait)

/* On a region fd, or (IPCU_IOC_CLONE only) an endpoint fd. */
#define IPCU_IOC_CLONE		_IOWR(IPCU_IOC_MAGIC, 0x20, struct ipcu_clone)
/* The argument is a flags word (must be 0), not a pointer. */
#define IPCU_IOC_SEAL		_IO(IPCU_IOC_MAGIC, 0x21)
#define IPCU_IOC_REGION_STATS	_IOWR(IPCU_IOC_MAGIC, 0x22, struct ipcu_region_stats)

#endif /* _UAPI_LINUX_IPCUNIT_H */
