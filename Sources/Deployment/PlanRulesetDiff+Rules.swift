import NetfilterModel

extension RulesetDiff {
  /// The rules added and removed between two versions of a chain, aligned on a longest common
  /// subsequence of their nft text: between two kept rules, removals come first, then additions.
  static func ruleChanges(_ old: Chain, _ new: Chain, family: Family, table: String) -> [Entry] {
    let oldTexts = old.rules.map { ruleText($0, family) }
    let newTexts = new.rules.map { ruleText($0, family) }
    var entries: [Entry] = []
    var i = 0
    var j = 0
    for (keptOld, keptNew) in longestCommonSubsequence(oldTexts, newTexts) + [(oldTexts.count, newTexts.count)] {
      while i < keptOld {
        entries.append(ruleEntry(old.rules[i], i, old, family, table, .removed))
        i += 1
      }
      while j < keptNew {
        entries.append(ruleEntry(new.rules[j], j, new, family, table, .added))
        j += 1
      }
      i += 1
      j += 1
    }
    return entries
  }

  /// Index pairs of a longest common subsequence of `a` and `b`, in increasing order.
  ///
  /// Hunt–Szymanski: O((n + r) log n) for r pairs of equal elements. Rules in a chain are nearly all
  /// distinct, so r is about n and a 10k-rule chain takes milliseconds, where the textbook table
  /// would need n × m cells. The common prefix and suffix are matched first.
  static func longestCommonSubsequence<T: Hashable>(_ a: [T], _ b: [T]) -> [(Int, Int)] {
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
      suffix += 1
    }
    var pairs = (0..<prefix).map { ($0, $0) }
    let aMiddle = prefix..<(a.count - suffix)
    let bMiddle = prefix..<(b.count - suffix)
    var positions: [T: [Int]] = [:]
    for j in bMiddle { positions[b[j], default: []].append(j) }

    // thresholds[k]: the smallest b index ending a common subsequence of length k + 1 so far;
    // links[k]: the node recording it, chained to its predecessor for the walk back.
    var thresholds: [Int] = []
    var links: [Int] = []
    var nodes: [(i: Int, j: Int, previous: Int)] = []
    for i in aMiddle {
      guard let js = positions[a[i]] else { continue }
      for j in js.reversed() {
        var low = 0
        var high = thresholds.count
        while low < high {
          let mid = (low + high) / 2
          if thresholds[mid] < j { low = mid + 1 } else { high = mid }
        }
        let previous = low > 0 ? links[low - 1] : -1
        if low == thresholds.count {
          thresholds.append(j)
          links.append(nodes.count)
        } else if j < thresholds[low] {
          thresholds[low] = j
          links[low] = nodes.count
        } else {
          continue
        }
        nodes.append((i, j, previous))
      }
    }
    var middle: [(Int, Int)] = []
    var node = links.last ?? -1
    while node >= 0 {
      middle.append((nodes[node].i, nodes[node].j))
      node = nodes[node].previous
    }
    pairs += middle.reversed()
    pairs += (0..<suffix).reversed().map { (a.count - 1 - $0, b.count - 1 - $0) }
    return pairs
  }
}
