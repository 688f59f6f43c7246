# Prints a kernel log without the reports of memory cgroup OOM kills in a
# cgroup the tests made for one (/vmexec-test-*): a test provokes such a
# kill on purpose, and its report (a stack dump, the task list) is not a
# splat. A report is dropped only as a whole, from "invoked oom-killer" to
# its "Killed process" line, and only if its constraint line names such a
# cgroup; anything else, an unfinished report included, is printed.
/invoked oom-killer:/ {
	if (n)
		flush()
	inreport = 1
}
inreport {
	buf[n++] = $0
	if ($0 ~ /oom-kill:constraint=CONSTRAINT_MEMCG/ && $0 ~ /oom_memcg=\/vmexec-test-/)
		ours = 1
	if ($0 ~ /Killed process/) {
		if (!ours)
			flush()
		n = 0
		inreport = ours = 0
	}
	next
}
{ print }
END {
	if (n)
		flush()
}
function flush(i) {
	for (i = 0; i < n; i++)
		print buf[i]
	n = 0
	ours = 0
}
