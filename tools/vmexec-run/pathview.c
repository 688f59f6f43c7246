// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/*
 * --bind GUEST=HOST: the guest's own view of the file system (umview's
 * "each process its own view").
 *
 * An absolute path the guest passes is normalised lexically ("//", "." and
 * ".." folded) and, if it is GUEST or lies under it, GUEST is replaced by
 * HOST; the longest GUEST wins. Paths under no GUEST, and relative paths,
 * are passed on untouched (a relative path resolves against the real
 * current directory, which chdir() into a bound directory has made the host
 * one). getcwd() maps the host prefix back.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "vmrun.h"

/* Lexical normalisation of an absolute path; the result has no trailing '/'. */
static void normalise(const char *in, char *out)
{
	size_t o = 0;
	const char *p = in;

	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = p - s;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
}

static char *dup_norm(const char *p)
{
	char *out;

	if (p[0] != '/' || strlen(p) >= PATH_MAX)
		return NULL;
	out = malloc(strlen(p) + 2);
	if (out)
		normalise(p, out);
	return out;
}

int bind_add(const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct bind_entry *b;
	char *g;

	if (!eq || eq == spec || !eq[1])
		return -EINVAL;
	g = strndup(spec, eq - spec);
	b = realloc(vr.binds, (vr.nbinds + 1) * sizeof(*b));
	if (!g || !b)
		return -ENOMEM;
	vr.binds = b;
	b = &vr.binds[vr.nbinds];
	b->guest = dup_norm(g);
	b->host = dup_norm(eq + 1);
	free(g);
	if (!b->guest || !b->host)
		return -EINVAL;
	b->glen = strlen(b->guest);
	b->hlen = strlen(b->host);
	vr.nbinds++;
	return 0;
}

bool pathview_active(void)
{
	return vr.nbinds > 0;
}

/* prefix "/" covers everything; otherwise a whole-component match. */
static size_t prefix_match(const char *path, const char *prefix, size_t plen)
{
	if (plen == 1 && prefix[0] == '/')
		return 1;
	if (strncmp(path, prefix, plen) || (path[plen] && path[plen] != '/'))
		return 0;
	return plen;
}

/*
 * The host path for a guest path into out. Returns 1 if a bind applied,
 * 0 if the path is passed on as it is (copied), -ENAMETOOLONG.
 */
int path_map(const char *in, char *out, size_t size)
{
	char norm[PATH_MAX + 1];
	const struct bind_entry *best = NULL;
	size_t best_len = 0, len, rest;
	int i;

	len = strlen(in);
	if (len >= size)
		return -ENAMETOOLONG;
	if (!vr.nbinds || in[0] != '/') {
		memcpy(out, in, len + 1);
		return 0;
	}
	normalise(in, norm);
	for (i = 0; i < vr.nbinds; i++) {
		size_t m = prefix_match(norm, vr.binds[i].guest, vr.binds[i].glen);

		if (m && vr.binds[i].glen >= best_len) {
			best = &vr.binds[i];
			best_len = best->glen;
		}
	}
	if (!best) {
		memcpy(out, in, len + 1);
		return 0;
	}
	/* The rest after the guest prefix starts with '/' or is empty. */
	rest = (best->glen == 1) ? 0 : best->glen;
	if (best->hlen + strlen(norm + rest) + 2 >= size)
		return -ENAMETOOLONG;
	strcpy(out, best->host);
	if (best->hlen == 1 && norm[rest] == '/')
		out[0] = 0;
	strcat(out, norm + rest);
	if (!out[0])
		strcpy(out, "/");
	/* Keep a trailing slash: "file/" must still fail as it would. */
	if (len > 1 && in[len - 1] == '/' && out[strlen(out) - 1] != '/')
		strcat(out, "/");
	return 1;
}

/* A host path (getcwd) back into the guest's view, in place. */
void path_unmap(char *path, size_t size)
{
	const struct bind_entry *best = NULL;
	char tmp[PATH_MAX + 1];
	size_t best_len = 0;
	int i;

	for (i = 0; i < vr.nbinds; i++) {
		size_t m = prefix_match(path, vr.binds[i].host, vr.binds[i].hlen);

		if (m && vr.binds[i].hlen >= best_len && vr.binds[i].hlen > 1) {
			best = &vr.binds[i];
			best_len = best->hlen;
		}
	}
	if (!best)
		return;
	if (best->glen + strlen(path + best->hlen) + 1 > sizeof(tmp))
		return;
	strcpy(tmp, best->glen == 1 ? "" : best->guest);
	strcat(tmp, path + best->hlen);
	if (!tmp[0])
		strcpy(tmp, "/");
	if (strlen(tmp) < size)
		strcpy(path, tmp);
}
