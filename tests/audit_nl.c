// SPDX-License-Identifier: GPL-2.0
/*
 * audit_nl: a small client of the kernel's audit netlink interface; see
 * audit_nl.h for the contract of each function.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/audit.h>
#include <linux/netlink.h>

#include "audit_nl.h"

/* One datagram: a netlink header and the longest audit message. */
#define AUDIT_NL_BUF	(NLMSG_SPACE(AUDIT_NL_MAX_TEXT) + 256)

static unsigned int audit_nl_seq;

static unsigned int next_seq(void)
{
	unsigned int seq = __atomic_add_fetch(&audit_nl_seq, 1, __ATOMIC_RELAXED);

	return seq ? seq : __atomic_add_fetch(&audit_nl_seq, 1, __ATOMIC_RELAXED);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until @deadline (ms, CLOCK_MONOTONIC); 0 if past. */
static int left_ms(long long deadline)
{
	long long left = deadline - now_ms();

	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int audit_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Receive one datagram from the kernel into @buf, waiting at most
 * @timeout_ms (< 0: no limit). Its length, -ETIMEDOUT or -errno. Datagrams
 * from anything but the kernel are dropped.
 */
static int recv_dgram(int fd, void *buf, size_t len, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct sockaddr_nl sa;
		socklen_t salen = sizeof(sa);
		ssize_t n;
		int r;

		r = poll(&pfd, 1, timeout_ms < 0 ? -1 : left_ms(deadline));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ETIMEDOUT;
		memset(&sa, 0, sizeof(sa));
		n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&sa, &salen);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
			continue;
		return (int)n;
	}
}

static int send_req(int fd, int type, const void *data, size_t len, unsigned int *seqp)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	size_t total = NLMSG_SPACE(len);
	struct nlmsghdr *nlh;
	ssize_t n;
	int err = 0;

	nlh = calloc(1, total);
	if (!nlh)
		return -ENOMEM;
	nlh->nlmsg_len = NLMSG_LENGTH(len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = next_seq();
	if (len)
		memcpy(NLMSG_DATA(nlh), data, len);
	do {
		n = sendto(fd, nlh, total, 0, (struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != total)
		err = -EIO;
	else
		*seqp = nlh->nlmsg_seq;
	free(nlh);
	return err;
}

/*
 * What a request waits for besides its ACK: a reply of type @reply_type
 * (copied into @reply, at most @reply_len bytes, the rest zeroed), or with
 * @multi a series of @reply_type messages ended by NLMSG_DONE (counted in
 * *@count).
 */
struct audit_nl_wait {
	int reply_type;		/* 0: the ACK alone */
	int multi;
	void *reply;
	size_t reply_len;
	int count;
};

static int request(int fd, int type, const void *data, size_t len, struct audit_nl_wait *w)
{
	long long deadline = now_ms() + AUDIT_NL_ACK_TIMEOUT_MS;
	int acked = 0, ack_err = 0, replied = !w || !w->reply_type;
	unsigned int seq = 0;
	char *buf;
	int err;

	err = send_req(fd, type, data, len, &seq);
	if (err)
		return err;
	buf = malloc(AUDIT_NL_BUF);
	if (!buf)
		return -ENOMEM;
	while (!acked || (!ack_err && !replied)) {
		struct nlmsghdr *nlh;
		int n;

		n = recv_dgram(fd, buf, AUDIT_NL_BUF, left_ms(deadline));
		if (n < 0) {
			err = n;
			goto out;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, (unsigned int)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;

			/*
			 * Not ours (an audit record: sequence number 0, and
			 * an nlmsg_len that cannot be trusted, see
			 * audit_nl_read()): drop the whole datagram.
			 */
			if (nlh->nlmsg_seq != seq)
				break;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (plen < sizeof(*e)) {
					err = -EBADMSG;
					goto out;
				}
				acked = 1;
				ack_err = e->error;
			} else if (w && w->reply_type && w->multi) {
				if (nlh->nlmsg_type == NLMSG_DONE)
					replied = 1;
				else if (nlh->nlmsg_type == w->reply_type)
					w->count++;
			} else if (w && w->reply_type && nlh->nlmsg_type == w->reply_type) {
				memset(w->reply, 0, w->reply_len);
				memcpy(w->reply, NLMSG_DATA(nlh),
				       plen < w->reply_len ? plen : w->reply_len);
				replied = 1;
			}
		}
	}
	err = ack_err;
out:
	free(buf);
	return err;
}

int audit_nl_set_enabled(int fd, int enabled)
{
	struct audit_status s;

	memset(&s, 0, sizeof(s));
	s.mask = AUDIT_STATUS_ENABLED;
	s.enabled = enabled;
	return request(fd, AUDIT_SET, &s, sizeof(s), NULL);
}

int audit_nl_set_pid(int fd, pid_t pid)
{
	struct audit_status s;

	if (pid < 0)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.mask = AUDIT_STATUS_PID;
	s.pid = pid;
	return request(fd, AUDIT_SET, &s, sizeof(s), NULL);
}

int audit_nl_syscall_rule(int fd, int add, const int *nrs, int n, const char *key)
{
	size_t keylen = key ? strlen(key) : 0;
	struct audit_rule_data *r;
	unsigned int f = 0;
	size_t size;
	int i, err;

	if (n < 0 || (n > 0 && !nrs) || (key && (keylen == 0 || keylen > AUDIT_MAX_KEY_LEN)))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (nrs[i] < 0 || nrs[i] >= AUDIT_BITMASK_SIZE * 32)
			return -EINVAL;
	size = sizeof(*r) + keylen;
	r = calloc(1, size);
	if (!r)
		return -ENOMEM;
	r->flags = AUDIT_FILTER_EXIT;
	r->action = AUDIT_ALWAYS;
	for (i = 0; i < n; i++)
		r->mask[AUDIT_WORD(nrs[i])] |= AUDIT_BIT(nrs[i]);
	r->fields[f] = AUDIT_ARCH;
	r->values[f] = AUDIT_ARCH_X86_64;
	r->fieldflags[f] = AUDIT_EQUAL;
	f++;
	if (key) {
		r->fields[f] = AUDIT_FILTERKEY;
		r->values[f] = keylen;
		r->fieldflags[f] = AUDIT_EQUAL;
		memcpy(r->buf, key, keylen);
		r->buflen = keylen;
		f++;
	}
	r->field_count = f;
	err = request(fd, add ? AUDIT_ADD_RULE : AUDIT_DEL_RULE, r, size, NULL);
	free(r);
	return err;
}

int audit_nl_get_status(int fd, struct audit_status *st)
{
	struct audit_nl_wait w = {
		.reply_type = AUDIT_GET, .reply = st, .reply_len = sizeof(*st),
	};

	return request(fd, AUDIT_GET, NULL, 0, &w);
}

int audit_nl_count_rules(int fd)
{
	struct audit_nl_wait w = { .reply_type = AUDIT_LIST_RULES, .multi = 1 };
	int err;

	err = request(fd, AUDIT_LIST_RULES, NULL, 0, &w);
	return err ? err : w.count;
}

int audit_nl_read(int fd, int *type, char *buf, size_t len, int timeout_ms)
{
	struct nlmsghdr *nlh;
	size_t plen;
	char *dg;
	int n;

	if (!type || !buf || len < 1)
		return -EINVAL;
	dg = malloc(AUDIT_NL_BUF);
	if (!dg)
		return -ENOMEM;
	n = recv_dgram(fd, dg, AUDIT_NL_BUF, timeout_ms);
	if (n < 0)
		goto out;
	nlh = (struct nlmsghdr *)dg;
	if ((size_t)n < NLMSG_HDRLEN) {
		n = -EBADMSG;
		goto out;
	}
	*type = nlh->nlmsg_type;
	/*
	 * The kernel's audit records (kauditd) carry an nlmsg_len without the
	 * header's own length, a long-standing quirk of the audit netlink
	 * protocol (see audit_log_end()): one message per datagram, so the
	 * text is the rest of the datagram (padding, if any, is NULs).
	 */
	plen = nlh->nlmsg_type == NLMSG_ERROR ? 0 : (size_t)n - NLMSG_HDRLEN;
	if (plen > len - 1)
		plen = len - 1;
	memcpy(buf, NLMSG_DATA(nlh), plen);
	buf[plen] = '\0';
	/* The text may carry its own NUL or a trailing newline. */
	plen = strlen(buf);
	while (plen && buf[plen - 1] == '\n')
		buf[--plen] = '\0';
	n = (int)plen;
out:
	free(dg);
	return n;
}

/* The value after " NAME=" in @text (NAME not at the start), or NULL. */
static const char *field(const char *text, const char *name)
{
	size_t nl = strlen(name);
	const char *p = text;

	while ((p = strstr(p, name))) {
		if (p > text && p[-1] == ' ' && p[nl] == '=')
			return p + nl + 1;
		p += nl;
	}
	return NULL;
}

static int parse_ll(const char *s, long long *v)
{
	char *end;

	if (!s)
		return -EBADMSG;
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno || end == s || (*end && *end != ' '))
		return -EBADMSG;
	return 0;
}

/* The stamp of "audit(STAMP): ..." into @stamp (@len bytes); 0 or -EBADMSG. */
static int parse_stamp(const char *text, char *stamp, size_t len)
{
	const char *p = strstr(text, "audit("), *e;

	if (!p)
		return -EBADMSG;
	p += strlen("audit(");
	e = strchr(p, ')');
	if (!e || e == p || (size_t)(e - p) >= len)
		return -EBADMSG;
	memcpy(stamp, p, e - p);
	stamp[e - p] = '\0';
	return 0;
}

int audit_nl_parse_syscall(const char *text, struct audit_nl_syscall *rec,
			   char *key, size_t keylen)
{
	long long v;
	const char *p;

	memset(rec, 0, sizeof(*rec));
	if (parse_stamp(text, rec->stamp, sizeof(rec->stamp)))
		return -EBADMSG;
	if (parse_ll(field(text, "syscall"), &v))
		return -EBADMSG;
	rec->nr = (long)v;
	p = field(text, "success");
	if (!p)
		return -EBADMSG;
	if (!strncmp(p, "yes", 3) && (p[3] == ' ' || !p[3]))
		rec->success = 1;
	else if (!strncmp(p, "no", 2) && (p[2] == ' ' || !p[2]))
		rec->success = 0;
	else
		return -EBADMSG;
	if (parse_ll(field(text, "exit"), &rec->exit))
		return -EBADMSG;
	if (parse_ll(field(text, "pid"), &v))
		return -EBADMSG;
	rec->pid = (pid_t)v;
	if (key) {
		size_t n;
		const char *e;

		if (keylen < 1)
			return -EINVAL;
		key[0] = '\0';
		p = field(text, "key");
		if (!p)
			return -EBADMSG;
		if (*p == '"') {
			p++;
			e = strchr(p, '"');
			if (!e)
				return -EBADMSG;
		} else {
			/* key=(null), or a hex-encoded key (not unquoted). */
			if (!strncmp(p, "(null)", 6))
				return 0;
			e = strchr(p, ' ');
			if (!e)
				e = p + strlen(p);
		}
		n = e - p;
		if (n >= keylen)
			n = keylen - 1;
		memcpy(key, p, n);
		key[n] = '\0';
	}
	return 0;
}

int audit_nl_collect(int fd, const char *key, pid_t pid,
		     struct audit_nl_syscall *recs, int max, int timeout_ms)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char rkey[AUDIT_MAX_KEY_LEN + 1];
	int stored = 0, type, err;
	char *text;

	if (!recs || max < 1 || timeout_ms < 0)
		return -EINVAL;
	text = malloc(AUDIT_NL_MAX_TEXT + 1);
	if (!text)
		return -ENOMEM;
	for (;;) {
		struct audit_nl_syscall rec;
		char stamp[sizeof(rec.stamp)];

		err = audit_nl_read(fd, &type, text, AUDIT_NL_MAX_TEXT + 1, left_ms(deadline));
		if (err == -ETIMEDOUT) {
			err = stored;
			break;
		}
		if (err < 0)
			break;
		if (type == AUDIT_EOE && stored == max) {
			/* The end of the event of the last record wanted? */
			if (!parse_stamp(text, stamp, sizeof(stamp)) &&
			    !strcmp(stamp, recs[max - 1].stamp)) {
				err = max;
				break;
			}
			continue;
		}
		if (type != AUDIT_SYSCALL || stored == max)
			continue;
		err = audit_nl_parse_syscall(text, &rec, rkey, sizeof(rkey));
		if (err) {
			/* Unparsable: an error only if it might be one of ours. */
			if (!key || strstr(text, key))
				break;
			continue;
		}
		if ((key && strcmp(rkey, key)) || (pid && rec.pid != pid))
			continue;
		recs[stored++] = rec;
	}
	free(text);
	return err;
}
