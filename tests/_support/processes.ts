// Test support: live processes from /proc (Linux), for tests that check a process tree is gone.

/** The fields of `/proc/<pid>/stat` after `(comm)`: state, ppid, pgrp, …; undefined when the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Pids of live processes (zombies excluded) whose stat fields (state, ppid, pgrp, …) satisfy `where`. */
function livePids(where: (fields: string[], pid: number) => boolean): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const fields = statFields(entry.name);
    if (fields && fields[0] !== "Z" && where(fields, Number(entry.name))) found.push(Number(entry.name));
  }
  return found;
}

/** Process ids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  return livePids((fields) => Number(fields[1]) === pid);
}

/** Process ids of the process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  return livePids((fields) => Number(fields[2]) === pgid);
}

/** Whether a process is alive (not gone, not a zombie). */
export function alive(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== "Z";
}

/** Pids of live processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  return livePids((_fields, pid) => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(marker);
    } catch {
      return false; // Gone meanwhile.
    }
  });
}

/** Resident set size of a process, in KiB (0 when it is gone). */
export function rssKiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
