/// A line diff (longest common subsequence) for showing drift: `- old` / `+ new` lines, with
/// unchanged lines left out.
enum LineDiff {
  /// Beyond this many cells the table would be too big; the diff then lists what is only in
  /// one side (still exact about which lines differ, not about their order).
  static let maximumCells = 4_000_000

  static func lines(old: String, new: String) -> [String] {
    let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard a.count * b.count <= maximumCells else {
      let (sa, sb) = (Set(a), Set(b))
      return a.filter { !sb.contains($0) }.map { "- " + $0 } + b.filter { !sa.contains($0) }.map { "+ " + $0 }
    }
    // lengths[i][j]: LCS of a[i...] and b[j...].
    var lengths = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
      for j in stride(from: b.count - 1, through: 0, by: -1) {
        lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
      }
    }
    var out: [String] = []
    var (i, j) = (0, 0)
    while i < a.count || j < b.count {
      if i < a.count && j < b.count && a[i] == b[j] {
        i += 1
        j += 1
      } else if j < b.count && (i == a.count || lengths[i][j + 1] >= lengths[i + 1][j]) {
        out.append("+ " + b[j])
        j += 1
      } else {
        out.append("- " + a[i])
        i += 1
      }
    }
    return out
  }
}
