// Just enough of the Dockerfile and .dockerignore formats to reproduce Vigil's two image builds
// without Docker (no engine or registry here). Anything the Dockerfiles start using that this does
// not understand is an error, so the image test cannot silently check something else than the image.

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined. */
  rest: string;
  /** ENTRYPOINT/CMD/RUN in exec (JSON) form. */
  exec?: string[];
}

export interface Stage {
  /** The `AS` name, else the stage index as text (what `COPY --from=<n>` accepts). */
  name: string;
  baseImage: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults (undefined: none). */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export interface CopyInstruction {
  from?: string;
  sources: string[];
  dest: string;
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*(#|$)/.test(line)) continue; // comments and blank lines between instructions
    if (pending !== '' && /^\s*#/.test(line)) continue; // comment lines inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push((pending + line).trim());
    pending = '';
  }
  if (pending.trim() !== '') lines.push(pending.trim());
  return lines;
}

function expandArgs(text: string, args: ReadonlyMap<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = args.get(name);
    if (value === undefined) throw new Error(`Dockerfile: build arg ${name} has no value (pass it like hack/build-images.sh does)`);
    return value;
  });
}

/** Parses a Dockerfile; `buildArgs` are the `--build-arg` values (they override ARG defaults in FROM). */
export function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): Dockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    const rest = match[2] as string;
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile: cannot parse "FROM ${rest}"`);
      const args = new Map(globalArgs);
      for (const [k, v] of Object.entries(buildArgs)) if (args.has(k)) args.set(k, v);
      stages.push({ name: from[2] ?? String(stages.length), baseImage: expandArgs(from[1] as string, args), instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`Dockerfile: only ARG may come before the first FROM, found ${keyword}`);
      const [name, value] = rest.split('=', 2) as [string, string | undefined];
      globalArgs.set(name.trim(), value);
      continue;
    }
    const instruction: Instruction = { keyword, rest };
    if (['ENTRYPOINT', 'CMD', 'RUN'].includes(keyword) && rest.startsWith('[')) instruction.exec = JSON.parse(rest) as string[];
    (stages[stages.length - 1] as Stage).instructions.push(instruction);
  }
  if (stages.length === 0) throw new Error('Dockerfile: no FROM');
  return { globalArgs, stages };
}

export function parseCopy(instruction: Instruction): CopyInstruction {
  if (instruction.keyword !== 'COPY') throw new Error(`not a COPY: ${instruction.keyword}`);
  if (instruction.rest.startsWith('[')) throw new Error(`COPY in JSON form is not supported here: ${instruction.rest}`);
  const words = instruction.rest.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    const fromFlag = /^--from=(.+)$/.exec(flag);
    // --chown/--chmod would change what USER 65534 may read; support them when a Dockerfile uses them.
    if (!fromFlag) throw new Error(`COPY flag ${flag} is not supported by the image test`);
    from = fromFlag[1];
  }
  if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${instruction.rest}`);
  for (const word of words) {
    if (/[*?[\]"'$]/.test(word)) throw new Error(`COPY with globs, quotes or variables is not supported by the image test: ${word}`);
  }
  const dest = words.pop() as string;
  return { ...(from === undefined ? {} : { from }), sources: words, dest };
}

/** `&&`-separated commands of a shell-form RUN, each as argv (no quoting or other shell syntax). */
export function runCommands(instruction: Instruction): string[][] {
  if (instruction.exec) return [instruction.exec];
  return instruction.rest.split('&&').map((command) => {
    if (/[|;<>`$"'()]/.test(command)) throw new Error(`RUN uses shell syntax the image test does not reproduce: ${command.trim()}`);
    return command.trim().split(/\s+/);
  });
}

function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more directories, a trailing `**` anything below.
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * The .dockerignore rules: `isIgnored('a/b/c')` for a path relative to the build context. Like
 * Docker, a pattern that matches a folder excludes everything in it, `!` re-includes, last match wins.
 */
export function dockerignore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = (negated ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negated, regexp: patternToRegExp(pattern) };
    });
  return (relativePath) => {
    const parts = relativePath.split('/');
    const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regexp.test(c))) ignored = !rule.negated;
    }
    return ignored;
  };
}
