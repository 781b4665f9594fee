import Foundation
import NetfilterModel
import RulesetImport
import Testing

/// The corpus of real dumps, kept in the repository (`Tests/Corpus`, a copy of the shared
/// corpus with its SOURCES.tsv) so every checkout tests the same files.
enum Corpus {
  static let directory: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Corpus").path

  static var iptablesFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
      .filter { $0.hasSuffix(".iptables-save") }.sorted()
  }

  static func load(_ name: String) throws -> ImportedRuleset {
    let path = directory + "/" + name
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return IPTablesSaveImporter().importRuleset(text, file: name)
  }
}

@Suite struct CorpusImportTests {
  /// The corpus is there: an empty list would make the tests below pass without testing.
  @Test func corpusIsPresent() {
    #expect(Corpus.iptablesFiles.count == 5, "\(Corpus.directory)")
  }

  @Test(arguments: Corpus.iptablesFiles)
  func importsWithoutErrors(_ name: String) throws {
    let imported = try Corpus.load(name)
    #expect(imported.errors.isEmpty, "\(imported.errors)")
  }
}

extension CorpusImportTests {
  /// What each corpus dump keeps opaque: match modules and targets with their counts.
  static let expectedOpaque: [String: (matches: [String: Int], targets: [String: Int])] = [
    "03_ferm_workstation.iptables-save": ([:], [:]),
    "07_serverfault_765855.iptables-save": ([:], ["TRACE": 2]),
    "08_tails_1.5.iptables-save": (["owner": 21], ["LOG": 1]),
    "18_openlab_stettenstr.iptables-save": ([:], [:]),
    "26_parser_stress_test.iptables-save": (["multiport": 1, "icmp6": 2], [:]),
  ]

  @Test(arguments: Corpus.iptablesFiles)
  func keepsExactlyTheExpectedOpaqueParts(_ name: String) throws {
    let imported = try Corpus.load(name)
    var matches: [String: Int] = [:]
    var targets: [String: Int] = [:]
    for table in imported.ruleset.tables {
      for chain in table.chains {
        for rule in chain.rules {
          for m in rule.matches { if case .opaque(let o) = m.kind { matches[o.module, default: 0] += 1 } }
          if case .opaque(let t) = rule.verdict { targets[t.name, default: 0] += 1 }
        }
      }
    }
    let expected = try #require(Self.expectedOpaque[name], "no expectation for \(name)")
    #expect(matches == expected.matches)
    #expect(targets == expected.targets)
    // One warning per opaque part, each at a line of the file.
    #expect(imported.warnings.count == matches.values.reduce(0, +) + targets.values.reduce(0, +))
    #expect(imported.warnings.allSatisfy { $0.location.file == name && $0.location.line > 0 })
  }

  @Test func fermHasTheShapeOfTheDump() throws {
    let imported = try Corpus.load("03_ferm_workstation.iptables-save")
    let filter = try #require(imported.ruleset.table(.ip, "filter"))
    #expect(imported.ruleset.tables.count == 1)
    #expect(filter.chains.map(\.name) == ["INPUT", "FORWARD", "OUTPUT"])
    let input = try #require(filter.chain("INPUT")?.base)
    #expect(input.hook == .input && input.priority.value == 0 && input.policy == .drop)
    #expect(filter.chain("OUTPUT")?.base?.policy == .accept)
    #expect(filter.chain("INPUT")?.rules.count == 6)
  }

  @Test func serverfaultTablesRunAtTheIPTablesPriorities() throws {
    let imported = try Corpus.load("07_serverfault_765855.iptables-save")
    #expect(imported.ruleset.tables.map(\.name) == ["filter", "nat", "mangle", "raw"])
    func priority(_ table: String, _ chain: String) -> Int? {
      imported.ruleset.table(.ip, table)?.chain(chain)?.base?.priority.value
    }
    #expect(priority("raw", "PREROUTING") == -300)
    #expect(priority("mangle", "PREROUTING") == -150)
    #expect(priority("nat", "PREROUTING") == -100)
    #expect(priority("nat", "POSTROUTING") == 100)
    #expect(imported.ruleset.table(.ip, "nat")?.chain("POSTROUTING")?.base?.type == .nat)
  }
}
