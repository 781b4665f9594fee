/// The glob patterns nft's `include` takes (`*`, `?`, `[…]`), expanded as glob(3) does: every
/// match in name order, names starting with a dot only for patterns that do.
enum NFTGlob {
  static func isPattern(_ path: String) -> Bool { path.contains { $0 == "*" || $0 == "?" || $0 == "[" } }

  /// The paths matching `pattern` (absolute or relative), sorted.
  static func expand(_ pattern: String, files: NFTIncludeFiles) -> [String] {
    let absolute = pattern.hasPrefix("/")
    let components = pattern.split(separator: "/").map(String.init)
    var candidates = [absolute ? "/" : ""]
    for (k, component) in components.enumerated() {
      let last = k == components.count - 1
      var next: [String] = []
      for base in candidates {
        let join = { (name: String) in base.isEmpty || base.hasSuffix("/") ? base + name : base + "/" + name }
        if !isPattern(component) {
          next.append(join(component))
          continue
        }
        let directory = base.isEmpty ? "." : base
        for name in (files.list(directory) ?? []).sorted() where matches(component, name) {
          let path = join(name)
          if last ? files.read(path) != nil : files.list(path) != nil { next.append(path) }
        }
      }
      candidates = next
    }
    return candidates.filter { files.read($0) != nil }.sorted()
  }

  /// Whether `name` matches the pattern (one path component).
  static func matches(_ pattern: String, _ name: String) -> Bool {
    if name.hasPrefix(".") && !pattern.hasPrefix(".") { return false }
    return match(Array(pattern.unicodeScalars), 0, Array(name.unicodeScalars), 0)
  }

  static func match(_ p: [Unicode.Scalar], _ i: Int, _ s: [Unicode.Scalar], _ j: Int) -> Bool {
    if i == p.count { return j == s.count }
    switch p[i] {
    case "*":
      for k in j...s.count where match(p, i + 1, s, k) { return true }
      return false
    case "?":
      return j < s.count && match(p, i + 1, s, j + 1)
    case "[":
      guard j < s.count, let close = p[(i + 1)...].firstIndex(of: "]") else {
        return j < s.count && s[j] == "[" && match(p, i + 1, s, j + 1)
      }
      var set = Array(p[(i + 1)..<close])
      let negate = set.first == "!" || set.first == "^"
      if negate { set.removeFirst() }
      var found = false
      var k = 0
      while k < set.count {
        if k + 2 < set.count && set[k + 1] == "-" {
          if set[k] <= s[j] && s[j] <= set[k + 2] { found = true }
          k += 3
        } else {
          if set[k] == s[j] { found = true }
          k += 1
        }
      }
      return found != negate && match(p, close + 1, s, j + 1)
    default:
      return j < s.count && p[i] == s[j] && match(p, i + 1, s, j + 1)
    }
  }
}
