#!/usr/bin/python3
"""Checks every command in README.md and docs/*.md against the real binaries: subcommands and
flags by --help, `sh run` blocks by running them against `hollerith up`, job specs by
`hollerith validate`. What it checks and how: docs/testing.md ("The documentation is tested").
"""
import argparse, collections, contextlib, glob, os, re, selectors, shlex, shutil, signal
import subprocess, sys, tempfile, threading, time

BINARIES = ("hollerith", "hollerith-coordinator", "hollerith-worker")
SHELL_INFOS = {"sh", "bash", "console"}
PREFIX_WORDS = {"!", "time", "exec", "sudo", "then", "do", "else", "if", "elif", "while", "until",
                "{", "}", "$"}
BLOCK_TIMEOUT_S, CLUSTER_DEADLINE_S, HELP_TIMEOUT_S = 60, 60, 20
HEREDOC = re.compile(r"(?<!<)<<(?!<)-?\s*['\"]?(\w+)['\"]?")  # <<EOF, <<'EOF'; not <<<
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Names the failing command and its line in the block (LINENO counts this line too).
FAILED_TRAP = "set -euo pipefail; trap 'echo \"@@failed@@ $((LINENO - 1)): $BASH_COMMAND\" >&2' ERR"
SCRIPT = re.compile(r"(\./)?[\w.-]+/[\w./-]*\.(sh|py)")

Block = collections.namedtuple("Block", "page line info lines")


def where(block, offset=0):
    return f"{block.page}:{block.line + offset}"


def extract_blocks(path, page):
    """Every fenced code block of a markdown file, with the line of its opening fence."""
    blocks, fence, start, info, body = [], None, 0, [], []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            stripped = text.strip()
            if fence is None and stripped[:3] in ("```", "~~~"):
                fence, start, info, body = stripped[:3], number, stripped[3:].split(), []
            elif fence is not None and stripped.startswith(fence):
                blocks.append(Block(page, start, info, body))
                fence = None
            elif fence is not None:
                body.append(text.rstrip("\n"))
    return blocks


def command_lines(block):
    """(offset from the fence, command): continuations joined; heredoc bodies and output skipped."""
    console = block.info[:1] == ["console"]
    result, pending, first, heredoc_end = [], "", 0, None
    for offset, text in enumerate(block.lines, 1):
        if heredoc_end is not None:
            heredoc_end = None if text.strip() == heredoc_end else heredoc_end
            continue
        if not pending:
            if console and not text.startswith("$ "):
                continue
            text, first = (text[2:] if console else text), offset
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        line, pending = pending + text, ""
        match = HEREDOC.search(line)
        heredoc_end = match.group(1) if match else None
        result.append((first, line))
    return result


def substitutions(word):
    """The commands inside $( ... ) of a word that shlex kept whole (inside double quotes)."""
    return re.findall(r"\$\(([^()]*)\)", word)


def simple_commands(line):
    """A shell line's simple commands as word lists: split at | && || ; ( ) $( <( , no redirects."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    commands, words, skip_next, result = [], [], False, []
    for token in lexer:
        if skip_next:
            skip_next = False
        elif set(token) <= set("();|&<>") and (set(token) & set("()") or set(token) <= set(";|&")):
            commands, words = commands + [words], []
        elif set(token) <= set("<>&"):
            skip_next = True  # a redirection: its target is no word of the command
        else:
            for inner in substitutions(token):
                commands.extend(simple_commands(inner))
            words.append(token)
    for words in commands + [words]:  # drop `VAR=value`, `!`, `if` ... before the command word
        while words and (words[0] in PREFIX_WORDS or ASSIGNMENT.match(words[0])):
            words = words[1:]
        result += [words] if words else []
    return result


def flags(words):
    """The flags among words, without their =value ('-' alone and negative numbers are none)."""
    return [w.split("=", 1)[0] for w in words if re.match(r"-[^\d]", w)]


def option_names(help_text):
    """Flags a CLI11 --help lists: the first word of each option line, split at commas."""
    found = re.findall(r"^\s+(-\S+)", help_text, re.M)
    return {name for names in found for name in names.split(",")}


def subcommand_names(help_text):
    section = help_text.split("Subcommands:", 1)
    return set(re.findall(r"^  (\S+)\s", section[1], re.M)) if len(section) == 2 else set()


class Checker:
    def __init__(self, source, binaries):
        self.source, self.binaries, self.helps, self.problems = source, binaries, {}, []
        self.counts = dict.fromkeys(["blocks", "help", "run", "specs", "other"], 0)

    def help(self, argv):
        if tuple(argv) not in self.helps:
            done = subprocess.run(argv + ["--help"], capture_output=True, text=True,
                                  timeout=HELP_TIMEOUT_S, cwd=self.source)
            self.helps[tuple(argv)] = done.stdout + done.stderr
        return self.helps[tuple(argv)]

    def check_binary(self, name, args):
        """Problems of one hollerith* command: unknown subcommands, flags its --help lacks."""
        path, positional, text = [], False, self.help([self.binaries[name]])
        for word in args[:args.index("--") if "--" in args else None]:
            if flags([word]):
                if flags([word])[0] not in option_names(text):
                    yield f"{' '.join([name] + path)}: no flag {flags([word])[0]} in its --help"
            elif subcommand_names(text) and not positional:
                if word not in subcommand_names(text):
                    yield f"{' '.join([name] + path)}: no subcommand '{word}'"
                    return
                path.append(word)
                text = self.help([self.binaries[name]] + path)
            else:
                positional = True

    def check_script(self, relative, args):
        """Problems of a repository script: missing, or flags its --help (else its text) lacks."""
        path = os.path.join(self.source, relative)
        if not os.path.isfile(path):
            yield f"{relative}: no such script"
            return
        text = open(path, encoding="utf-8").read()
        if relative.endswith(".py") and "argparse" in text:
            text = self.help(["/usr/bin/python3", path])
        elif "--help)" in text:  # the scripts' case branch for it; others could run on --help
            text = self.help(["bash", path])
        for flag in flags(args):
            if not re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text):
                yield f"{relative}: no flag {flag} in its --help"

    def check_command(self, words):
        if os.path.basename(words[0]).startswith("python") and len(words) > 1 \
                and SCRIPT.fullmatch(words[1]):
            words = words[1:]
        if os.path.basename(words[0]) in BINARIES:
            self.counts["help"] += 1
            return list(self.check_binary(os.path.basename(words[0]), words[1:]))
        if SCRIPT.fullmatch(words[0]):
            self.counts["help"] += 1
            return list(self.check_script(words[0].removeprefix("./"), words[1:]))
        self.counts["other"] += 1
        return []

    def check_shell_block(self, block):
        summary = subcommand_names(self.help([self.binaries["hollerith"]]))
        for offset, line in command_lines(block):
            try:
                commands = simple_commands(line)
            except ValueError as error:
                self.problems.append(f"{where(block, offset)}: cannot parse: {error}\n    {line}")
                continue
            problems = [p for words in commands for p in self.check_command(words)]
            if commands and os.path.basename(commands[0][0]) == "hollerith" and any(
                    words[0] in summary for words in commands[1:]):
                problems.append("a help-style summary: write one command per line")
            self.problems += [f"{where(block, offset)}: {p}\n    {line.strip()}" for p in problems]

    def check_spec_block(self, block):
        self.counts["specs"] += 1
        # Beside the examples, as a spec in the repository would be (`include:` may name them).
        with tempfile.TemporaryDirectory(prefix="hollerith-docs-") as workdir:
            os.symlink(os.path.join(self.source, "examples"), os.path.join(workdir, "examples"))
            spec = os.path.join(workdir, "spec.yaml")
            with open(spec, "w") as f:
                f.write("\n".join(block.lines) + "\n")
            done = subprocess.run([self.binaries["hollerith"], "validate", spec],
                                  capture_output=True, text=True, timeout=HELP_TIMEOUT_S)
        if done.returncode != 0:
            error = re.sub(re.escape(spec) + r":(\d+):",
                           lambda m: f"line {block.line + int(m.group(1))}:", done.stderr.strip())
            self.problems.append(f"{where(block)}: spec does not validate: {error}")

    def run_block(self, block, env):
        """Runs one `sh run` block in a fresh directory; a failure becomes a problem."""
        self.counts["run"] += 1
        workdir = tempfile.mkdtemp(prefix="hollerith-docs-")
        os.symlink(os.path.join(self.source, "examples"), os.path.join(workdir, "examples"))
        script = FAILED_TRAP + "\n" + "\n".join(block.lines) + "\n"
        child = subprocess.Popen(["bash", "-c", script], cwd=workdir, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            output, _ = child.communicate(timeout=BLOCK_TIMEOUT_S)
            failure = f"exit status {child.returncode}" if child.returncode else None
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            output, failure = child.communicate()[0], f"still running after {BLOCK_TIMEOUT_S} s"
        finally:  # also what the block left behind, and on SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            shutil.rmtree(workdir, ignore_errors=True)
        if failure:
            command = re.search(r"^@@failed@@ (\d+): (.*)$", output, re.M)
            place = where(block, int(command.group(1))) if command else where(block)
            failure += f", at `{command.group(2)}`" if command else ""
            tail = "".join(f"\n    | {line}" for line in output.splitlines()[-15:])
            self.problems.append(f"{place}: `sh run` block failed: {failure}{tail}")


def read_until(fd, marker, seconds):
    """What fd gave until marker, its end or the deadline."""
    selector, text, deadline = selectors.DefaultSelector(), "", time.monotonic() + seconds
    selector.register(fd, selectors.EVENT_READ)
    while marker not in text and selector.select(max(0.0, deadline - time.monotonic())):
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        text += chunk.decode()
    return text


def stop_group(process):
    """Ctrl-C to the process group (hollerith up stops its daemons), then SIGKILL if need be."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
            return


@contextlib.contextmanager
def local_cluster(env):
    """`hollerith up --workers 2` until the with ends; yields the variables it says to export."""
    with tempfile.TemporaryFile() as log:
        up = subprocess.Popen(["hollerith", "up", "--workers", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        try:
            text = read_until(up.stdout.fileno(), "press Ctrl-C", CLUSTER_DEADLINE_S)
            if "press Ctrl-C" not in text:
                log.seek(0)
                raise RuntimeError(f"hollerith up did not come up: {text}{log.read().decode()}")
            threading.Thread(target=up.stdout.read, daemon=True).start()  # keeps its pipe drained
            yield dict(re.findall(r"export (HOLLERITH_\w+)=(\S+)", text))
        finally:
            stop_group(up)


def run_blocks(checker, blocks, binaries):
    """Runs blocks against a fresh cluster, the binaries first on PATH and in HOLLERITH_BIN_DIR."""
    bin_dir = tempfile.mkdtemp(prefix="hollerith-docs-bin-")
    for name, path in binaries.items():
        os.symlink(os.path.abspath(path), os.path.join(bin_dir, name))
    # `python3` in a block is Debian's, the one whose grpcio the Python client runs on (the
    # client itself comes from the build through PYTHONPATH, which CTest sets).
    os.symlink("/usr/bin/python3", os.path.join(bin_dir, "python3"))
    # What the blocks leave in the temp dir (`run --local` keeps its workspaces there for the
    # user to look at) goes with this run.
    scratch = tempfile.mkdtemp(prefix="hollerith-docs-tmp-")
    os.chmod(scratch, 0o711)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOLLERITH_")}
    env.update(PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}", HOLLERITH_BIN_DIR=bin_dir,
               TMPDIR=scratch)
    try:
        with local_cluster(env) as exports:
            for block in blocks:
                checker.run_block(block, {**env, **exports})
    except RuntimeError as error:
        checker.problems.append(f"{where(blocks[0])}: {error}")
    finally:
        shutil.rmtree(bin_dir, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def check_pages(source, pages, binaries):
    """Checks the pages (paths relative to source); returns the Checker with problems and counts."""
    checker = Checker(source, binaries)
    blocks = [b for page in pages for b in extract_blocks(os.path.join(source, page), page)]
    checker.counts["blocks"] = len(blocks)
    for block in blocks:
        if block.info[:1] and block.info[0] in SHELL_INFOS:
            checker.check_shell_block(block)
        elif block.info[:1] == ["yaml"] and any(l.startswith("stacks:") for l in block.lines):
            checker.check_spec_block(block)
    runnable = [b for b in blocks if b.info[:2] == ["sh", "run"]]
    if runnable:
        run_blocks(checker, runnable, binaries)
    return checker


SAMPLE = """# A page with a mistake on each line of its first block
```sh
hollerith status --bogus-flag
hollerith frobnicate JOB
x=$(hollerith certs issue x --role worker --nope) && curl -s http://127.0.0.1/ | grep -q ok
scripts/missing.sh --help
hollerith status | watch JOB | logs JOB
```
```yaml
name: s
stacks: {A: {cards: [{id: a, run: 'true', after: [B.b]}]}}
```
```sh
hollerith --version && hollerith certs issue NAME --role worker --dir ca --host HOST
```
"""
SAMPLE_RUN = "```sh run\nhollerith workers\n```\n```sh run\ntrue\nfalse\ntrue\n```\n"
EXPECTED = ["README.md:3: hollerith status: no flag --bogus-flag", "README.md:4: hollerith: no "
            "subcommand 'frobnicate'", "README.md:5: hollerith certs issue: no flag --nope",
            "README.md:6: scripts/missing.sh: no such script",
            "README.md:7: a help-style summary", "README.md:9: spec does not validate"]
RUN_EXPECTED = "README.md:21: `sh run` block failed: exit status 1, at `false`"


def selftest(binaries, with_run):
    """The checker must report each planted mistake, and nothing else."""
    source = tempfile.mkdtemp(prefix="hollerith-docs-selftest-")
    try:
        os.mkdir(os.path.join(source, "examples"))
        with open(os.path.join(source, "README.md"), "w") as page:
            page.write(SAMPLE + (SAMPLE_RUN if with_run else ""))
        checker = check_pages(source, ["README.md"], binaries)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    expected = EXPECTED + [RUN_EXPECTED] * with_run
    reported = lambda e: any(p.startswith(e) for p in checker.problems)
    wrong = [f"not reported: {e}" for e in expected if not reported(e)]
    wrong += [f"unexpected: {p}" for p in checker.problems if not any(map(p.startswith, expected))]
    counts = (checker.counts["help"], checker.counts["other"])
    wrong += [f"counted {counts}"] if counts != ((8, 7) if with_run else (7, 4)) else []
    print("".join(f"selftest: {line}\n" for line in wrong), end="", file=sys.stderr)
    return not wrong


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    for name in ("--cli", "--coordinator", "--worker"):
        parser.add_argument(name, required=True, help="path of the built binary")
    parser.add_argument("--selftest", action="store_true", help="check the checker only")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # CTest's timeout: still stop the cluster
    binaries = dict(zip(BINARIES, (args.cli, args.coordinator, args.worker)))
    if not selftest(binaries, with_run=args.selftest):
        return 1
    if args.selftest:
        print("selftest: every planted mistake reported")
        return 0
    source = os.path.abspath(args.source)
    pages = ["README.md"] + sorted(os.path.relpath(p, source)
                                   for p in glob.glob(os.path.join(source, "docs", "*.md")))
    checker = check_pages(source, pages, binaries)
    for problem in checker.problems:
        print(problem, file=sys.stderr)
    c = checker.counts
    print(f"docs: {c['blocks']} blocks, {c['help']} commands checked by --help, {c['run']} blocks "
          f"run, {c['specs']} specs validated, {c['other']} other commands"
          + (f"; {len(checker.problems)} problems" if checker.problems else ""))
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
