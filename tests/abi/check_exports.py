#!/usr/bin/python3
"""Check the exported symbols of libsmbsess against its headers and linker map.

Reads the dynamic symbol table, version definitions and SONAME of the built
library (readelf -W -d --dyn-syms -V), the version script (libsmbsess.map) and
every public header under include/smbsess/, and prints one TAP line per check:

  * the SONAME is libsmbsess.so.<digits>;
  * the map is well formed: nodes named SMBSESS_<major>.<minor>, in ascending
    order, each defined once, plain names under global:, no name in two nodes;
  * every version the library defines is a node of the map, and the reverse;
  * every exported symbol (defined; global, weak or unique binding; default or
    protected visibility) starts with smbsess_ but not smbsess__, carries a
    version, and that version is the map node that lists it;
  * every exported symbol is declared with SMBSESS_API in a public header;
  * every SMBSESS_API declaration is exported;
  * every name listed in the map is exported.

Exits 0 once the TAP stream is out: its "not ok" lines are the verdict.

For testing the checker itself, --readelf-output FILE reads saved readelf
output instead of running readelf on --lib.
"""

import argparse
import os
import re
import subprocess
import sys

PREFIX = "smbsess_"
INTERNAL_PREFIX = "smbsess__"
NODE_RE = re.compile(r"^SMBSESS_(\d+)\.(\d+)$")
SONAME_RE = re.compile(r"^libsmbsess\.so\.\d+$")
EXPORT_MACRO = "SMBSESS_API"


class Tap:
    """Collects results and prints them as TAP."""

    def __init__(self):
        self.lines = []
        self.failed = 0

    def check(self, ok, what, diag=None):
        self.lines.append((bool(ok), what, diag))
        if not ok:
            self.failed += 1
        return ok

    def bail(self, why):
        print("Bail out! " + why)
        sys.exit(1)

    def finish(self):
        print("1..%d" % len(self.lines))
        for n, (ok, what, diag) in enumerate(self.lines, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
            if diag and not ok:
                for line in diag.splitlines():
                    print("#   " + line)
        if self.failed:
            # Again on stderr, which meson prints apart in its log.
            for n, (status, what, diag) in enumerate(self.lines, 1):
                if status is False or status == "not ok":
                    print("not ok %d - %s" % (n, what), file=sys.stderr)
                    for line in (diag or "").rstrip("\n").splitlines():
                        print("#   " + line, file=sys.stderr)
        # A complete TAP stream exits 0: its "not ok" lines are the verdict.
        return 0


# ---------------------------------------------------------------- the library

class ElfInfo:
    def __init__(self):
        self.soname = None
        self.verdefs = []       # (name, is_base) in file order
        self.exported = {}      # name -> dict(version, default, type, bind, vis)
        self.unexported_defined = []  # defined, but local/hidden: not a concern


def run_readelf(lib):
    try:
        out = subprocess.run(["readelf", "-W", "-d", "--dyn-syms", "-V", lib],
                             check=True, capture_output=True, text=True)
    except FileNotFoundError:
        return None, "readelf not found"
    except subprocess.CalledProcessError as e:
        return None, "readelf failed: " + e.stderr.strip()
    return out.stdout, None


DYNSYM_RE = re.compile(
    r"^\s*\d+:\s+[0-9a-fA-F]+\s+(?:0x[0-9a-fA-F]+|\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$")


def parse_readelf(text):
    info = ElfInfo()
    section = None
    for line in text.splitlines():
        if line.startswith("Symbol table '.dynsym'"):
            section = "dynsym"
            continue
        if line.startswith("Version definition section"):
            section = "verdef"
            continue
        if line.startswith(("Version symbols section", "Version needs section",
                            "Dynamic section", "Symbol table '")):
            section = "other"
            continue
        m = re.search(r"\(SONAME\)\s+Library soname: \[(.*)\]", line)
        if m:
            info.soname = m.group(1)
            continue
        if section == "verdef":
            m = re.search(r"Flags: (.*?)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)", line)
            if m:
                info.verdefs.append((m.group(2), "BASE" in m.group(1)))
            continue
        if section != "dynsym":
            continue
        # Some targets add "[<localentry>: 8]" after the visibility.
        m = DYNSYM_RE.match(re.sub(r"\[<[^]]*>[^]]*\]\s*", "", line))
        if not m:
            continue
        typ, bind, vis, ndx, name = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        if ndx == "UND":
            continue
        # readelf may append " (N)" after a versioned name; drop it.
        name = name.split(" ")[0]
        version, default = None, False
        if "@@" in name:
            name, version = name.split("@@", 1)
            default = True
        elif "@" in name:
            name, version = name.split("@", 1)
        sym = dict(version=version, default=default, type=typ, bind=bind, vis=vis, ndx=ndx)
        exported = bind in ("GLOBAL", "WEAK", "UNIQUE", "GNU_UNIQUE") and vis in ("DEFAULT", "PROTECTED")
        if not exported:
            info.unexported_defined.append(name)
            continue
        key = name if version is None or default else name + "@" + version
        info.exported[key] = sym
    # The linker emits one absolute symbol per version definition, named
    # after it; it is bookkeeping, not an interface.
    verdef_names = {name for name, _ in info.verdefs}
    for key in list(info.exported):
        sym = info.exported[key]
        if key in verdef_names and sym["ndx"] == "ABS" and sym["version"] is None:
            del info.exported[key]
    return info


# ---------------------------------------------------------------- the map

def tokenize_map(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"#[^\n]*", " ", text)
    return re.findall(r'"[^"]*"|[{};:]|[^\s{};:]+', text)


class MapFile:
    def __init__(self):
        self.nodes = []         # node names in file order
        self.parents = {}       # node -> parent or None
        self.globals = {}       # node -> [names]
        self.locals = {}        # node -> [patterns]
        self.errors = []        # syntax problems


def parse_map(text):
    mp = MapFile()
    toks = tokenize_map(text)
    i = 0

    def err(msg):
        mp.errors.append(msg)

    while i < len(toks):
        node = toks[i]
        if node in "{};:":
            err("unexpected %r at top level" % node)
            i += 1
            continue
        if i + 1 >= len(toks) or toks[i + 1] != "{":
            err("node %s is not followed by '{'" % node)
            break
        i += 2
        mp.nodes.append(node)
        mp.globals.setdefault(node, [])
        mp.locals.setdefault(node, [])
        scope = "global"
        while i < len(toks) and toks[i] != "}":
            t = toks[i]
            if t in ("global", "local") and i + 1 < len(toks) and toks[i + 1] == ":":
                scope = t
                i += 2
                continue
            if t == "extern":
                err("node %s: extern \"lang\" blocks are not used in a C library" % node)
                depth = 0
                while i < len(toks):
                    if toks[i] == "{":
                        depth += 1
                    elif toks[i] == "}":
                        depth -= 1
                        if depth == 0:
                            i += 1
                            break
                    i += 1
                continue
            if t in "{:":
                err("node %s: unexpected %r" % (node, t))
                i += 1
                continue
            if t == ";":
                i += 1
                continue
            (mp.globals if scope == "global" else mp.locals)[node].append(t)
            i += 1
            if i < len(toks) and toks[i] != ";":
                err("node %s: missing ';' after %s" % (node, t))
        if i >= len(toks):
            err("node %s: missing '}'" % node)
            break
        i += 1  # the '}'
        parent = None
        if i < len(toks) and toks[i] != ";":
            parent = toks[i]
            i += 1
        mp.parents[node] = parent
        if i < len(toks) and toks[i] == ";":
            i += 1
        else:
            err("node %s: missing ';' after '}'" % node)
    return mp


# ---------------------------------------------------------------- the headers

C_KEYWORDS = set("""
auto break case char const continue default do double else enum extern float for
goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool _Complex _Noreturn
_Static_assert _Alignas _Alignof _Atomic _Thread_local bool __restrict __restrict__
__inline __inline__ __extension__ __const
""".split())
ATTRIBUTE_WORDS = {"__attribute__", "__attribute", "__declspec", "__asm__", "__asm", "asm",
                   "_Pragma", "__typeof__", "typeof"}

TOKEN_RE = re.compile(r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<punct>\.\.\.|->|::|[{}()\[\];,*&=<>!~^|%/+\-.?:\#])
  | (?P<other>.)
""", re.X | re.S)


def c_tokens(text):
    """Tokens of a header, without comments and preprocessor lines.

    Yields (kind, value, line). Both branches of conditionals are kept, which
    over-approximates what a compiler sees; that is the safe side here.
    """
    line = 1
    at_line_start = True
    in_directive = False
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        val = m.group()
        if kind == "comment":
            line += val.count("\n")
            continue
        if kind == "nl":
            line += 1
            at_line_start = True
            in_directive = False
            continue
        if kind == "ws":
            continue
        if at_line_start and val == "#":
            in_directive = True
        at_line_start = False
        if in_directive:
            continue
        yield kind, val, line


def _strip_continuations(text):
    # A backslash-newline inside a directive must not end it; replacing it by
    # a plain space keeps the directive on one logical line, and a trailing
    # newline per removed one keeps line numbers of what follows right.
    out = []
    pending = 0
    for ln in text.split("\n"):
        if ln.endswith("\\"):
            out.append(ln[:-1] + " ")
            pending += 1
        else:
            out.append(ln + "\n" * pending + "\n")
            pending = 0
    return "".join(out)


class Decl:
    def __init__(self, header, toks):
        self.header = header
        self.toks = [(k, v) for k, v, _ in toks]
        self.exported = any(v == EXPORT_MACRO for _, v in self.toks)
        self.name, self.kind = decl_name(self.toks)
        lines = [ln for _, v, ln in toks if v == self.name] or [toks[0][2]]
        self.line = lines[0]
        self.is_static = any(v == "static" for _, v in self.toks)
        self.is_typedef = any(v == "typedef" for _, v in self.toks)

    def where(self):
        return "%s:%d" % (self.header, self.line)


def _skip_group(toks, i):
    """toks[i] is '('; returns the index after its matching ')'."""
    depth = 0
    while i < len(toks):
        v = toks[i][1]
        if v == "(":
            depth += 1
        elif v == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _without_attributes(toks):
    """Drops __attribute__((...)) and the like, and macro calls in capitals
    such as SMBSESS_DEPRECATED("...") that stand for attributes."""
    out = []
    i = 0
    while i < len(toks):
        kind, v = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and nxt == "(" and (v in ATTRIBUTE_WORDS or
                                              re.fullmatch(r"[A-Z][A-Z0-9_]*", v)):
            i = _skip_group(toks, i + 1)
            continue
        if kind == "ident" and v in ATTRIBUTE_WORDS:
            i += 1
            continue
        out.append((kind, v))
        i += 1
    return out


def decl_name(toks):
    """The name a declaration declares and whether it is a function.

    Handles pointer return types, declarations over several lines, attributes,
    functions returning function pointers (the first identifier followed by
    '(' that is not a keyword), and pointer-to-function variables.
    """
    toks = _without_attributes(toks)
    if not toks:
        return None, None
    if any(v in ("typedef",) for _, v in toks):
        return None, "typedef"
    for i, (kind, v) in enumerate(toks[:-1]):
        if kind == "ident" and toks[i + 1][1] == "(" and v not in C_KEYWORDS \
                and v != EXPORT_MACRO:
            return v, "function"
    # A struct, union or enum definition declares no object unless a
    # declarator follows its body.
    for i, (_, v) in enumerate(toks):
        if v == "{}":
            toks = toks[i + 1:]
            break
    # A variable: the identifier after '(' '*' in "(*name)", else the last
    # identifier before '=' or '[' or the end.
    for i, (kind, v) in enumerate(toks[:-2]):
        if v == "(" and toks[i + 1][1] == "*" and toks[i + 2][0] == "ident":
            return toks[i + 2][1], "variable"
    end = len(toks)
    for i, (_, v) in enumerate(toks):
        if v in ("=", "["):
            end = i
            break
    for kind, v in reversed(toks[:end]):
        if kind == "ident" and v not in C_KEYWORDS and v != EXPORT_MACRO:
            if toks[0][1] in ("struct", "union", "enum") and end == 2:
                return None, "tag"
            return v, "variable"
    return None, None


def header_decls(path, display):
    """Top-level declarations of one header (inside extern "C" too)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = _strip_continuations(f.read())
    toks = list(c_tokens(text))
    decls = []
    cur = []
    depth = 0            # brace depth of struct/enum/function bodies
    extern_c = 0         # open extern "C" { blocks, which are transparent
    i = 0
    while i < len(toks):
        kind, v, line = toks[i]
        if depth == 0 and v == "extern" and i + 2 < len(toks) and \
                toks[i + 1][0] == "string" and toks[i + 2][1] == "{":
            extern_c += 1
            i += 3
            continue
        if v == "{":
            depth += 1
            if depth == 1:
                cur.append(("punct", "{}", line))
            i += 1
            continue
        if v == "}":
            if depth == 0:
                if extern_c:
                    extern_c -= 1
                i += 1
                continue
            depth -= 1
            if depth == 0 and len(cur) >= 2 and cur[-2][1] == ")":
                # end of a function body: the definition is complete
                decls.append(Decl(display, cur[:-1]))
                cur = []
            i += 1
            continue
        if depth:
            i += 1
            continue
        if v == ";":
            if cur:
                decls.append(Decl(display, cur))
            cur = []
            i += 1
            continue
        if kind == "ident" and v in ("SMBSESS_BEGIN_DECLS", "SMBSESS_END_DECLS"):
            i += 1
            continue
        cur.append((kind, v, line))
        i += 1
    return decls


def public_headers(include_dir):
    found = []
    for root, dirs, files in os.walk(include_dir):
        dirs.sort()
        for fn in sorted(files):
            if fn.endswith(".h"):
                full = os.path.join(root, fn)
                found.append((full, os.path.relpath(full, os.path.dirname(include_dir))))
    return found


# ---------------------------------------------------------------- the checks

def version_key(node):
    m = NODE_RE.match(node)
    return (int(m.group(1)), int(m.group(2))) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", help="the built shared library")
    ap.add_argument("--readelf-output", help="saved `readelf -W -d --dyn-syms -V` output to check instead")
    ap.add_argument("--map", required=True, help="the linker version script")
    ap.add_argument("--include-dir", required=True, help="the folder of public headers (include/smbsess)")
    args = ap.parse_args()
    tap = Tap()

    # --- inputs
    if args.readelf_output:
        with open(args.readelf_output, encoding="utf-8") as f:
            text = f.read()
    elif args.lib:
        text, error = run_readelf(args.lib)
        if text is None:
            tap.bail(error)
    else:
        ap.error("give --lib or --readelf-output")
    elf = parse_readelf(text)
    with open(args.map, encoding="utf-8") as f:
        mp = parse_map(f.read())
    map_name = os.path.basename(args.map)

    decls = []
    headers = public_headers(args.include_dir)
    for full, display in headers:
        decls.extend(header_decls(full, display))
    api_decls = {}
    plain_decls = {}
    for d in decls:
        if d.name is None:
            continue
        if d.exported:
            api_decls.setdefault(d.name, []).append(d)
        elif d.kind in ("function", "variable") and not d.is_typedef:
            plain_decls.setdefault(d.name, []).append(d)

    # --- the SONAME
    tap.check(elf.soname is not None and SONAME_RE.match(elf.soname),
              "SONAME %s has the form libsmbsess.so.<digits>" % (elf.soname or "(none)"),
              None if elf.soname else "the library has no DT_SONAME")

    # --- the map itself
    tap.check(not mp.errors, "%s parses" % map_name, "\n".join(mp.errors))
    tap.check(mp.nodes, "%s defines at least one version node" % map_name)
    seen_nodes = set()
    for node in mp.nodes:
        tap.check(NODE_RE.match(node), "map node %s is named SMBSESS_<major>.<minor>" % node)
        tap.check(node not in seen_nodes, "map node %s is defined once" % node)
        seen_nodes.add(node)
        parent = mp.parents.get(node)
        if parent is not None:
            tap.check(parent in mp.nodes[:mp.nodes.index(node)],
                      "map node %s inherits from %s, a node defined before it" % (node, parent))
    keys = [version_key(n) for n in mp.nodes if version_key(n)]
    tap.check(keys == sorted(keys), "map nodes are in ascending version order",
              "order: " + ", ".join(mp.nodes))
    symbol_node = {}
    for node in dict.fromkeys(mp.nodes):
        for name in mp.globals[node]:
            if any(c in name for c in "*?["):
                tap.check(False, "map node %s: global entry %s is a plain name, not a pattern" % (node, name),
                          "a pattern under global: exports whatever matches it")
                continue
            if name in symbol_node:
                tap.check(False, "map: %s is listed in one node only" % name,
                          "listed in %s and in %s; a symbol never moves between nodes"
                          % (symbol_node[name], node))
                continue
            symbol_node[name] = node
    has_local_star = any("*" in mp.locals[n] for n in mp.nodes)
    tap.check(has_local_star, "%s hides everything else with 'local: *;'" % map_name)

    # --- version definitions of the library
    lib_nodes = [name for name, base in elf.verdefs if not base]
    base_names = [name for name, base in elf.verdefs if base]
    if base_names and elf.soname:
        tap.check(base_names[0] == elf.soname,
                  "base version definition %s matches the SONAME" % base_names[0])
    for node in lib_nodes:
        tap.check(NODE_RE.match(node), "library version node %s is named SMBSESS_<major>.<minor>" % node)
        tap.check(node in mp.nodes, "library version node %s is defined in %s" % (node, map_name))
    for node in mp.nodes:
        tap.check(node in lib_nodes, "map node %s is a version node of the library" % node,
                  "the library was not linked with this map (is -Wl,--version-script= set?)")

    # --- every exported symbol
    tap.check(elf.exported, "the library exports at least one symbol")
    for key in sorted(elf.exported):
        sym = elf.exported[key]
        name = key.split("@", 1)[0]
        label = "exported %s %s" % (sym["type"].lower(), key)
        tap.check(name.startswith(PREFIX) and not name.startswith(INTERNAL_PREFIX),
                  "%s has the public prefix %s (and not %s)" % (label, PREFIX, INTERNAL_PREFIX),
                  ("%s is internal: give it hidden visibility or make it static" % INTERNAL_PREFIX)
                  if name.startswith(INTERNAL_PREFIX) else
                  "only smbsess_* may be exported; is something built without hidden visibility, "
                  "or does the map export a pattern?")
        ver = sym["version"]
        if not tap.check(ver is not None, "%s has a symbol version" % label,
                         "unversioned: the map does not cover it (version script missing?)"):
            pass
        else:
            tap.check(NODE_RE.match(ver), "%s has version %s, named SMBSESS_<major>.<minor>" % (label, ver))
            tap.check(ver in mp.nodes, "%s has version %s, a node of %s" % (label, ver, map_name),
                      "%s defines: %s" % (map_name, ", ".join(mp.nodes) or "no node"))
            want = symbol_node.get(name)
            tap.check(want == ver, "%s is in the node %s that lists it in %s" % (label, ver, map_name),
                      "%s lists it under %s" % (map_name, want) if want else "%s does not list it" % map_name)
        if name in api_decls:
            d = api_decls[name][0]
            want_kind = "function" if sym["type"] in ("FUNC", "IFUNC") else "variable"
            tap.check(d.kind == want_kind and not d.is_static,
                      "%s is declared with %s in %s" % (label, EXPORT_MACRO, d.where()),
                      "the header declares a %s%s" % ("static " if d.is_static else "", d.kind))
        else:
            diag = "no public header under %s declares it with %s" % (args.include_dir, EXPORT_MACRO)
            if name in plain_decls:
                diag = "%s declares it without %s" % (plain_decls[name][0].where(), EXPORT_MACRO)
            tap.check(False, "%s is declared with %s in a public header" % (label, EXPORT_MACRO), diag)
        if sym["type"] not in ("FUNC", "IFUNC"):
            tap.check(False, "%s is a function" % label,
                      "export functions only: exported data freezes its size and layout (copy relocations)")

    # --- every SMBSESS_API declaration
    exported_names = {k.split("@", 1)[0] for k in elf.exported}
    for name in sorted(api_decls):
        d = api_decls[name][0]
        tap.check(name in exported_names,
                  "%s %s declared with %s at %s is exported" % (d.kind, name, EXPORT_MACRO, d.where()),
                  ("not in the library's dynamic symbols; is it defined in lib/api, "
                   "and listed in %s?" % map_name) + (" (listed under %s)" % symbol_node[name]
                                                      if name in symbol_node else " (not listed)"))
    unparsed = [d for d in decls if d.exported and d.name is None]
    for d in unparsed:
        tap.check(False, "declaration with %s at %s names a function or variable" % (EXPORT_MACRO, d.where()),
                  "could not find the declared name in: " + " ".join(v for _, v in d.toks))

    # --- every name in the map
    for name in sorted(symbol_node):
        tap.check(name in exported_names, "%s entry %s (%s) is exported" % (map_name, name, symbol_node[name]),
                  "listed in the map but not defined (or not visible) in the library")

    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
