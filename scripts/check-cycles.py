#!/usr/bin/env python3
"""No import cycles between the files of any crate (issue 15).

Issue 15 asks that the files of every crate form a hierarchy: if `a.rs` uses `b.rs`,
`b.rs` must not use `a.rs`, directly or through other files. For a cycle reported here,
move the misplaced definition to where it belongs (a shared type into `types.rs` or
`keys.rs`, a rule next to the other rules) rather than hide the cycle: inlined `crate::`
paths and re-exports are seen like any `use`.

Crates: each Cargo.toml with [package] (not under target/). Modules: src/**/*.rs, `lib.rs`
or `main.rs` the root, `a.rs` or `a/mod.rs` `a`, `a/b.rs` `a::b` (no `#[path]`; src/bin/
and a main.rs beside a lib.rs are other crates). References: `use crate::..` (nested
groups too), `crate::x::Y` in code, `super::`/`self::` from the (inline) module they are
in, bare `x::..` for a child module `x` (unless a dependency is named `x`); each resolves
to the longest module prefix that is a file, then through `pub use` to the defining file.
Ignored: comments, literals, `$crate`, `#[cfg(test)]` items (tests may use anything), and
a parent's `mod x;`/`pub use x::Y` of its descendants unless its own code uses `Y`.

Usage: scripts/check-cycles.py [REPO]   each cycle with the line making each edge; exit 1 if any
       scripts/check-cycles.py --self-test
"""
import contextlib
import io
import os
import re
import sys
import tempfile
from collections import deque

LEXEMES = re.compile(r'''//[^\n]*|/\*.*?\*/|b?r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"'''
                     r'''|b?'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^'\\\n])\'''', re.S)
CFG_TEST = re.compile(r'#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]')
TOKEN = re.compile(r'\$?[A-Za-z_]\w*|::|[^\s\w]')
IDENT = re.compile(r'[A-Za-z_]\w*$')


def blank(s):
    return re.sub(r'[^\n]', ' ', s)  # keeps line numbers


def clean(src):
    """The source without comments, literals and `#[cfg(test)]` items (newlines kept)."""
    src = LEXEMES.sub(lambda m: blank(m.group()), src)
    while (m := CFG_TEST.search(src)):
        j, depth = m.end(), 0
        while j < len(src):  # to the item's `;` or closing `}` (or the end of its block)
            depth += (src[j] in '([{') - (src[j] in ')]}')
            if depth < 0 or (depth == 0 and src[j] in ';}'):
                break
            j += 1
        src = src[:m.start()] + blank(src[m.start():j + (depth == 0)]) + src[j + (depth == 0):]
    return src


def parse_use(toks, i, prefix):
    """The use tree at toks[i]: ([(segments, bound name)], index after it)."""
    segs = ['::'] if toks[i][0] == '::' else list(prefix)  # `use ::x`: an extern crate
    i += toks[i][0] == '::'
    while True:
        t = toks[i][0]
        if t == '{':
            out, i = [], i + 1
            while toks[i][0] != '}':
                sub, i = parse_use(toks, i, segs)
                out += sub
                i += toks[i][0] == ','
            return out, i + 1
        if t == '*':
            return [(segs, None)], i + 1
        segs, i = segs + [t], i + 1
        if toks[i][0] == '::':
            i += 1
            continue
        alias = None
        if toks[i][0] == 'as':
            alias, i = toks[i + 1][0], i + 2
        if segs[-1] == 'self' and len(segs) > 1:
            segs.pop()
        return [(segs, alias or segs[-1])], i


def scan(text, file_mod):
    """([(segments, line, in a pub use, module, bound name)], {identifier in code: first line})."""
    toks = [(m.group(), text.count('\n', 0, m.start()) + 1) for m in TOKEN.finditer(text)] + [(';', 0)] * 3
    refs, used, scopes, pending, i = [], {}, [], None, 0
    while i < len(toks) - 3:
        (t, line), prev = toks[i], toks[i - 1][0] if i else ''
        cur = file_mod + tuple(s for s in scopes if s)
        if t == 'use' and prev != '::':
            k = i - 1  # the token before the visibility: `pub use`, `pub(crate) use`
            while toks[i - 1][0] == ')' and k > 0 and toks[k][0] != '(':
                k -= 1
            k -= toks[i - 1][0] == ')'
            paths, i = parse_use(toks, i + 1, [])
            refs += [(segs, line, k >= 0 and toks[k][0] == 'pub', cur, name) for segs, name in paths]
            continue
        if prev not in ('::', '.'):  # a name looked up in this module, not a field or a path's tail
            used.setdefault(t, line)
        if t == '{':
            scopes.append(pending)
            pending = None
        elif t == '}' and scopes:
            scopes.pop()
        elif t == 'mod' and IDENT.match(toks[i + 1][0]) and toks[i + 2][0] == '{':
            pending = toks[i + 1][0]
        elif (IDENT.match(t) and toks[i + 1][0] == '::' and prev != '::'
              and not (prev == 'in' and toks[i - 2][0] == '(')):  # `pub(in crate::a)` is no use
            segs, i = [t], i + 1
            while toks[i][0] == '::' and IDENT.match(toks[i + 1][0]):
                segs.append(toks[i + 1][0])
                i += 2
            refs.append((segs, line, False, cur, None))
            continue
        i += 1
    return refs, used


def read_crate(crate_dir):
    """(names of extern crates, {module path: file relative to src/})."""
    externs, table = {'std', 'core', 'alloc', 'proc_macro'}, ''
    for ln in open(os.path.join(crate_dir, 'Cargo.toml')).read().splitlines():
        if (h := re.match(r'\s*\[([^\]]+)\]', ln)):
            table = h.group(1).strip()
            if (d := re.search(r'dependencies\.([\w-]+)$', table)):
                externs.add(d.group(1).replace('-', '_'))
        elif table.endswith('dependencies') and (d := re.match(r'\s*([\w-]+)\s*[=.]', ln)):
            externs.add(d.group(1).replace('-', '_'))
        elif table in ('package', 'lib') and (d := re.match(r'\s*name\s*=\s*"([^"]+)"', ln)):
            externs.add(d.group(1).replace('-', '_'))  # the crate's own name, as a main.rs uses it
    src, files = os.path.join(crate_dir, 'src'), {}
    for dirpath, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if not (dirpath == src and d == 'bin')]
        for f in names:
            rel = os.path.relpath(os.path.join(dirpath, f), src).replace(os.sep, '/')
            if f.endswith('.rs') and not (rel == 'main.rs' and os.path.exists(os.path.join(src, 'lib.rs'))):
                parts = rel[:-3].split('/')
                files[tuple(parts[:-1] if parts[-1] == 'mod' or rel in ('lib.rs', 'main.rs') else parts)] = rel
    return externs, files


def crate_cycles(crate_dir):
    """(number of files, cycles); a cycle is [(file, line, source line)] ending where it starts."""
    externs, files = read_crate(crate_dir)
    mod_of, text, refs, used, reexports, edges = {f: m for m, f in files.items()}, {}, {}, {}, {}, {}
    for mod, f in files.items():
        text[f] = open(os.path.join(crate_dir, 'src', f), encoding='utf-8', errors='replace').read()
        refs[f], used[f] = scan(clean(text[f]), mod)
        text[f] = text[f].splitlines()

    def absolute(segs, cur):
        k = next((k for k, s in enumerate(segs) if s != 'super'), len(segs))
        if segs[0] == 'crate' or segs[0] == 'self':
            return (cur if segs[0] == 'self' else ()) + tuple(segs[1:])
        if k:
            return cur[:len(cur) - k] + tuple(segs[k:]) if k <= len(cur) else None
        return cur + tuple(segs) if cur + (segs[0],) in files and segs[0] not in externs else None

    def resolve(path):
        for _ in range(10):  # through `pub use` re-exports to the file defining the item
            k = max(k for k in range(len(path) + 1) if path[:k] in files)
            target = reexports.get(path[:k], {}).get(path[k] if k < len(path) else None)
            if target is None or target == path[:k + 1]:
                break
            path = target + path[k + 1:]
        return files[path[:k]]

    for f in files.values():
        for segs, _, is_pub, cur, name in refs[f]:
            if is_pub and name and (path := absolute(segs, cur)):
                reexports.setdefault(cur, {})[name] = path
    for f in files.values():
        for segs, line, is_pub, cur, name in refs[f]:
            if (path := absolute(segs, cur)) is None or (g := resolve(path)) == f:
                continue
            if is_pub and mod_of[g][:len(mod_of[f])] == mod_of[f]:  # re-exporting a descendant
                if name not in used[f]:
                    continue
                line = used[f][name]
            edges.setdefault(f, {}).setdefault(g, line)
    return len(files), [[(a, edges[a][b], text[a][edges[a][b] - 1].strip()) for a, b in zip(c, c[1:])]
                        + [(c[0], 0, '')] for c in cycles(edges)]


def bfs(edges, start, within):
    """{file reachable from start inside `within`: its predecessor on a shortest path}."""
    back, queue = {start: None}, deque([start])
    while queue:
        x = queue.popleft()
        for y in sorted(edges.get(x, {})):
            if y in within and y not in back:
                back[y] = x
                queue.append(y)
    return back


def cycles(edges):
    """Strongly connected components, as shortest cycles covering each edge inside one."""
    nodes = set(edges) | {g for e in edges.values() for g in e}
    reach, out, covered = {v: bfs(edges, v, nodes) for v in nodes}, [], set()
    for u in sorted(nodes):
        comp = {w for w in reach[u] if u in reach[w]}
        for v in sorted(w for w in edges.get(u, {}) if w in comp):
            if (u, v) not in covered:
                back, path = bfs(edges, v, comp), [u]
                while path[-1] != v:
                    path.append(back[path[-1]])
                out.append([u] + path[::-1])
                covered |= set(zip(out[-1], out[-1][1:]))
    return out


def crates(root):
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != 'target' and not d.startswith('.'))
        if 'Cargo.toml' in names and '[package]' in open(os.path.join(dirpath, 'Cargo.toml')).read():
            yield dirpath


def main(root):
    found, n_crates, n_files = 0, 0, 0
    for crate_dir in crates(root):
        n, cycs = crate_cycles(crate_dir)
        n_crates, n_files, found = n_crates + 1, n_files + n, found + len(cycs)
        for cyc in cycs:
            print(f'{os.path.relpath(crate_dir, root)}: ' + ' -> '.join(f for f, _, _ in cyc))
            print(''.join(f'    {f}:{line}: {src}\n' for f, line, src in cyc[:-1]), end='')
    if found:
        print(f'{found} import cycle(s): move the misplaced definition to where it belongs (issue 15)')
        return 1
    print(f'no import cycles in {n_crates} crates ({n_files} files)')
    return 0


SELF_TEST = {  # crate: ({file: source}, the files that must be in cycles)
    'use_cycle': ({'lib.rs': 'pub mod a;\npub mod b;\nmod c;\n', 'c.rs': 'pub struct C;\n',
                   'a.rs': 'use crate::{c::C, b::{self, B}};\npub struct A;\n',
                   'b.rs': 'use crate::a::A;\npub struct B;\n'}, {'a.rs', 'b.rs'}),
    'super_cycle': ({'lib.rs': 'pub mod m;\npub mod c;\n', 'c.rs': 'pub fn k() { crate::m::f() }\n',
                     'm/mod.rs': 'mod n;\npub fn f() { n::g() }\npub fn h() {}\n',
                     'm/n.rs': 'pub fn g() { super::h(); super::super::c::k() }\n'}, {'m/mod.rs', 'm/n.rs', 'c.rs'}),
    'inline_paths': ({'lib.rs': 'pub mod a;\npub mod b;\npub mod c;\n', 'c.rs': 'pub fn h() { crate::a::f(); }\n',
                      'a.rs': '// crate::c::h()\n/* crate::c::h() */\npub fn f() -> u8 { let _ = "crate::c::h()"; '
                              'crate::b::g() }\n',
                      'b.rs': "pub fn g() -> u8 { if true { b'x' } else { crate::a::f() } }\n"}, {'a.rs', 'b.rs'}),
    'reexport_used': ({'lib.rs': 'mod it;\npub use it::Iter;\npub struct Store;\n'
                                 'impl Store { pub fn iter(&self) -> Iter { Iter } }\n',
                       'it.rs': 'pub struct Iter;\nimpl Iter { fn s(&self) -> crate::Store { crate::Store } }\n'},
                      {'lib.rs', 'it.rs'}),
    'clean': ({'lib.rs': 'pub mod a;\npub mod b;\npub use a::A;\npub use b::{B as Bee, *};\npub fn root() { '
                         'a::helper() }\n#[macro_export]\nmacro_rules! m { () => { $crate::b::B } }\n',
               'a.rs': "use crate::Bee;\npub struct A<'a>(&'a Bee);\npub fn helper() {}\n"
                       'mod inner { use super::helper; pub(in crate::a) fn x() { helper() } }\n',
               'b.rs': 'pub struct B;\n'}, set()),
    'test_only_cycle': ({'lib.rs': 'pub mod a;\npub mod b;\n',
                         'a.rs': 'pub fn f() {}\n#[cfg(test)]\n#[allow(unused)]\nmod tests {\n use crate::b::g;\n}\n',
                         'b.rs': 'pub fn g() { crate::a::f() }\n#[cfg(test)]\nuse crate::a::*;\n'}, set()),
}


def self_test():
    failures = []
    with tempfile.TemporaryDirectory() as root:
        for name, (sources, expected) in SELF_TEST.items():
            for rel, body in [('Cargo.toml', f'[package]\nname = "{name}"\n')] + \
                    [('src/' + f, s) for f, s in sources.items()]:
                os.makedirs(os.path.dirname(os.path.join(root, name, rel)), exist_ok=True)
                open(os.path.join(root, name, rel), 'w').write(body)
            n, cycs = crate_cycles(os.path.join(root, name))
            if n != len(sources) or {f for c in cycs for f, _, _ in c} != expected:
                failures.append(f'{name}: {n} files, cycles {cycs}, expected cycles through {sorted(expected)}')
        edges = [(f, line) for f, line, _ in crate_cycles(os.path.join(root, 'use_cycle'))[1][0]]
        if edges != [('a.rs', 1), ('b.rs', 1), ('a.rs', 0)]:
            failures.append(f'use_cycle: edges {edges}')
        with contextlib.redirect_stdout(io.StringIO()) as out:
            rc = main(root)
        if rc != 1 or 'use_cycle: a.rs -> b.rs -> a.rs\n    a.rs:1: use crate::{c::C' not in out.getvalue():
            failures.append(f'main() exited {rc} and printed:\n{out.getvalue()}')
    print(''.join(f'FAIL {f}\n' for f in failures) + f'self-test: {len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1] if sys.argv[1:] else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
