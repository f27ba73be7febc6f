// The scripts `make deps`/`make kind-up`/`make demo-*` run on a laptop must work with macOS's bash 3.2
// and BSD tools: a table of bash-4-only and GNU-only constructs, each proven to catch a sample, none of
// which may appear in those scripts (comments aside). Every hack/ script they call is on the list.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..', '..');

/** What `make deps`, `make kind-up`, `make kind-down` and `make demo-outage`/`demo-restore` run, sourced files included. */
const KIND_PATH_SCRIPTS = [
  'hack/lib.sh',
  'hack/pinned-node.sh',
  'hack/kind-up.sh',
  'hack/build-images.sh',
  'hack/install-kind.sh',
  'hack/install-helm.sh',
  'hack/install-kube.sh',
  'hack/go-build.sh',
  'hack/demo-outage.sh',
  'hack/demo-restore.sh',
  'hack/demo-mail.sh',
];

interface Forbidden {
  what: string;
  pattern: RegExp;
  instead: string;
  sample: string;
  /** Allowed in a script that also has this guard (the construct used only where the tool exists). */
  guard?: RegExp;
}

const FORBIDDEN: Forbidden[] = [
  // bash 4 and later (macOS ships bash 3.2)
  { what: 'automatic file descriptor (bash 4.1)', pattern: /\{[A-Za-z_]\w*\}\s*[<>]/, instead: 'a fixed descriptor number', sample: 'exec {lock_fd}>"$f"' },
  { what: 'associative array (bash 4)', pattern: /\b(declare|local|typeset)\s+-\w*A/, instead: 'a case statement or two plain arrays', sample: 'declare -A seen=()' },
  { what: 'nameref or global declare (bash 4.2/4.3)', pattern: /\b(declare|local|typeset)\s+-\w*[ng]/, instead: 'eval or a plain variable', sample: 'local -n ref=$1' },
  { what: 'mapfile/readarray (bash 4)', pattern: /\b(mapfile|readarray)\b/, instead: 'a while read loop', sample: 'mapfile -t lines < f' },
  { what: 'case modification expansion (bash 4)', pattern: /\$\{[^}]*(,,?|\^\^?)\}/, instead: "tr '[:upper:]' '[:lower:]'", sample: 'os=${os,,}' },
  { what: 'transformation expansion (bash 4.4)', pattern: /\$\{[^}]*@[QEPAUuLKa]\}/, instead: 'printf %q', sample: 'echo ${x@Q}' },
  { what: '&>> or |& (bash 4)', pattern: /&>>|\|&/, instead: '>>f 2>&1 or 2>&1 |', sample: 'cmd |& tee log' },
  { what: 'coproc (bash 4)', pattern: /\bcoproc\b/, instead: 'a background job with a fifo', sample: 'coproc worker { cat; }' },
  { what: '[[ -v ]] (bash 4.2)', pattern: /\[\[\s+-v\s/, instead: '[[ -n "${x+set}" ]]', sample: '[[ -v FOO ]]' },
  { what: 'wait -n (bash 4.3)', pattern: /\bwait\s+-n\b/, instead: 'wait for each PID', sample: 'wait -n' },
  { what: ';;& or ;& in case (bash 4)', pattern: /;;&|[^;];&\s*$/, instead: 'separate patterns', sample: '  a) echo a ;&' },
  { what: 'globstar/lastpipe/inherit_errexit (bash 4+)', pattern: /\bshopt\s+-s\s+(globstar|lastpipe|inherit_errexit)\b/, instead: 'find, a subshell', sample: 'shopt -s globstar' },
  { what: 'printf %(...)T (bash 4.2)', pattern: /%\([^)]*\)T/, instead: 'date', sample: "printf '%(%s)T' -1" },
  { what: 'EPOCHSECONDS/EPOCHREALTIME/BASHPID (bash 4/5)', pattern: /\$\{?(EPOCHSECONDS|EPOCHREALTIME|BASHPID)\b/, instead: '$(date +%s), $$', sample: 'start=$EPOCHSECONDS' },
  // GNU coreutils/grep/sed and Linux-only commands (macOS has BSD tools)
  { what: 'date with sub-second %N or -d (GNU date)', pattern: /\bdate\b[^|;]*(%\d*N|\s-d\s)/, instead: "node -p 'Date.now()'", sample: 'date +%s%3N' },
  { what: 'readlink -f / realpath (GNU, or macOS 13+ only)', pattern: /\breadlink\s+-f\b|\brealpath\b/, instead: 'cd "$(dirname ...)" && pwd', sample: 'readlink -f "$0"' },
  { what: 'sed -i without a suffix (GNU and BSD differ)', pattern: /\bsed\b[^|;]*\s-\w*i(\s|$)/, instead: 'sed -i.bak ... && rm *.bak, or a temp file', sample: "sed -i 's/a/b/' f" },
  { what: 'grep -P (GNU)', pattern: /\bgrep\s+(-\w+\s+)*-\w*P/, instead: 'grep -E', sample: "grep -oP '\\d+' f" },
  { what: '\\s \\d \\w in grep/sed patterns (GNU extensions)', pattern: /\b(grep|sed)\b.*\\[sSdDwW]/, instead: '[[:space:]] [0-9] [[:alnum:]_]', sample: "grep -E '^\\s+x' f" },
  { what: 'stat -c / --format (GNU)', pattern: /\bstat\s+(-c|--format|--printf)\b/, instead: 'ls -l, wc -c, node', sample: 'stat -c %s f' },
  { what: 'timeout (GNU coreutils)', pattern: /(^|[\s;&|(])timeout\s+-?\w/, instead: 'the tool’s own --timeout or a loop with a deadline', sample: 'timeout 10 curl x' },
  { what: 'sha256sum/md5sum (GNU)', pattern: /\b(sha\d+sum|md5sum)\b/, instead: 'shasum -a 256 or node crypto', sample: 'sha256sum f' },
  { what: 'nproc (GNU)', pattern: /\bnproc\b/, instead: 'getconf _NPROCESSORS_ONLN', sample: 'jobs=$(nproc)' },
  { what: 'xargs -r (GNU)', pattern: /\bxargs\s+(-\w*r\b|--no-run-if-empty)/, instead: 'a while read loop', sample: 'xargs -r rm' },
  { what: 'find -printf (GNU)', pattern: /\bfind\b.*\s-printf\b/, instead: 'find ... -exec', sample: "find . -printf '%p'" },
  { what: 'head/tail -N (use -n N)', pattern: /\b(head|tail)\s+-\d/, instead: 'head -n 1', sample: 'head -1' },
  { what: 'ln -r, install -D, cp -l, base64 -w, tac (GNU)', pattern: /\bln\s+-\w*r|\binstall\s+-\w*D|\bcp\s+-\w*l|\bbase64\s+-w|\btac\b/, instead: 'POSIX options', sample: 'ln -sr a b' },
  {
    what: 'Linux-only commands and files',
    pattern: /\b(nsenter|unshare|setpriv|getent|ip\s+(netns|link|addr))\b|\/proc\//,
    instead: 'nothing on the laptop path',
    sample: 'nsenter --net=/run/netns/x',
  },
  { what: 'flock (not on macOS)', pattern: /\bflock\b/, instead: 'with_cache_lock (lib.sh), which falls back to a lock folder', sample: 'flock 9', guard: /\bcommand -v flock\b/ },
];

/** The script's lines without comments (a `#` at the start or after whitespace), numbered from 1. */
function codeLines(text: string): Array<{ line: number; code: string }> {
  return text
    .split('\n')
    .map((raw, i) => ({ line: i + 1, code: raw.replace(/(^|\s)#(?![!{]).*$/, '') }))
    .filter((l) => l.code.trim() !== '');
}

function findings(file: string, text: string): string[] {
  const out: string[] = [];
  for (const { line, code } of codeLines(text)) {
    for (const f of FORBIDDEN) {
      if (f.pattern.test(code) && !f.guard?.test(text)) out.push(`${file}:${line}: ${f.what} (use ${f.instead}): ${code.trim()}`);
    }
  }
  return out;
}

describe('the forbidden-construct table', () => {
  test.each(FORBIDDEN)('catches its sample: $what', ({ pattern, sample }) => {
    expect(codeLines(sample).some((l) => pattern.test(l.code))).toBe(true);
  });

  test('does not flag the portable forms it recommends, nor comments', () => {
    const portable = [
      "os=\"$(uname -s | tr '[:upper:]' '[:lower:]')\"",
      'eval "exec $fd>\\"\\$lock\\""',
      'kubectl -n "$NS" rollout status "$w" --timeout=300s',
      "grep -E '^[[:space:]]+k8s' f | head -n 1",
      "start_ms=$(( $(node -p 'Date.now()') - 1000 ))",
      'local -a list=()',
      'x=1 # date +%s%3N would need GNU date',
    ];
    expect(portable.flatMap((text) => findings('sample.sh', text))).toEqual([]);
  });
});

describe('scripts on the laptop path', () => {
  test.each(KIND_PATH_SCRIPTS)('%s parses (bash -n) and avoids bash-4-only and GNU-only constructs', (file) => {
    const parsed = spawnSync('bash', ['-n', path.join(REPO, file)], { encoding: 'utf8' });
    expect({ code: parsed.status, stderr: parsed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(findings(file, readFileSync(path.join(REPO, file), 'utf8'))).toEqual([]);
  });

  test('every hack/ script they run or source is on the list', () => {
    const called = new Set<string>();
    for (const file of KIND_PATH_SCRIPTS) {
      const text = readFileSync(path.join(REPO, file), 'utf8');
      for (const m of text.matchAll(/(?:\$REPO_ROOT\/hack\/|\$\(dirname "\$0"\)\/|\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/)([\w./-]+\.(?:sh|env))/g)) {
        called.add(`hack/${m[1]}`);
      }
    }
    const makefile = ['Makefile', 'hack/make/deploy.mk'].map((f) => readFileSync(path.join(REPO, f), 'utf8')).join('\n');
    for (const m of makefile.matchAll(/\bhack\/([\w-]+\.sh)\b/g)) if (/kind|demo|pinned-node|build-images/.test(m[1] as string)) called.add(`hack/${m[1]}`);
    const missing = [...called].filter((f) => f.endsWith('.sh') && !KIND_PATH_SCRIPTS.includes(f));
    expect(missing).toEqual([]);
    expect(called.size).toBeGreaterThanOrEqual(8);
  });
});
