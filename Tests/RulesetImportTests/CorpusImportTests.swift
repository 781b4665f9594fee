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

extension Corpus {
  static var nftFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".nft") }.sorted()
  }

  /// An nft ruleset of the corpus, its includes read from nowhere (fw4 includes
  /// `/etc/nftables.d/*.nft`, which matches nothing there, as on a fresh router).
  static func loadNFT(_ name: String) throws -> ImportedRuleset {
    let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    return NFTTextImporter(files: .memory([:])).importRuleset(text, file: name)
  }
}

/// The corpus's nft rulesets: a real flat-share router (listing form) and OpenWrt's fw4 default
/// router (script form: defines, include, flowtable, ct helpers, verdict maps).
@Suite struct NFTCorpusImportTests {
  @Test func corpusIsPresent() {
    #expect(Corpus.nftFiles == ["24_ongy_flatshare.nft", "27_openwrt_fw4_default_router.nft"])
  }

  @Test(arguments: Corpus.nftFiles)
  func importsWithoutErrors(_ name: String) throws {
    let imported = try Corpus.loadNFT(name)
    #expect(imported.errors.isEmpty, "\(imported.errors)")
  }

  @Test func flatshareIsAllModel() throws {
    let imported = try Corpus.loadNFT("24_ongy_flatshare.nft")
    #expect(imported.diagnostics.isEmpty)
    #expect(imported.ruleset.tables.map { "\($0.family.rawValue) \($0.name)" } == ["ip nat", "ip filter"])
    let filter = try #require(imported.ruleset.table(.ip, "filter"))
    #expect(filter.chains.map(\.name) == ["ssh-chain", "input", "wgpc", "wgfilter", "forward"])
    #expect(filter.chains.map(\.rules.count) == [3, 1, 11, 3, 2])
    #expect(filter.chain("input")?.base == BaseChain(type: .filter, hook: .input, priority: .number(0)))
    #expect(
      filter.chain("ssh-chain")?.rules
        == [
          Rule(
            matches: [Match(.address(.v4, .source, .set([nftPrefix("10.13.37.0/25"), nftPrefix("10.149.107.128")])))],
            verdict: .accept),
          Rule(statements: [Statement(.counter)]),
          Rule(verdict: .reject(.icmp(.netProhibited))),
        ])
    let nat = try #require(imported.ruleset.table(.ip, "nat"))
    #expect(
      nat.chain("post")?.rules
        == [
          Rule(
            matches: [
              Match(.address(.v4, .source, .single(nftPrefix("10.13.37.0/24")))),
              Match(.address(.v4, .destination, .single(nftPrefix("10.149.107.128"))), negated: true),
            ],
            verdict: .snat(
              NATDestination(address: IPAddress("10.149.107.130")!, lastAddress: IPAddress("10.149.107.135")!)))
        ])
    #expect(
      nat.chain("pre")?.rules.first?.matches
        == [
          Match(.interface(.input, .single(InterfacePattern(name: "eth0")))),
          Match(.port(.tcp, .destination, .set([PortRange(5050), PortRange(8080)]))),
          Match(.address(.v4, .destination, .single(nftPrefix("10.149.107.135")))),
        ])
  }

  /// fw4: what stays out of the model or as written, each with its warning at its place.
  @Test func fw4KeepsExactlyTheseParts() throws {
    let name = "27_openwrt_fw4_default_router.nft"
    let imported = try Corpus.loadNFT(name)
    let helpers = [
      (21, "amanda"), (25, "ftp"), (29, "RAS"), (33, "Q.931"), (37, "irc"), (41, "netbios-ns"), (45, "pptp"),
      (49, "sane"), (53, "sip"), (57, "snmp"), (61, "tftp"), (65, "rtsp"),
    ]
    let helperSets = [
      (154, 36, "amanda"), (155, 33, "ftp"), (156, 35, "RAS"), (157, 35, "Q.931"), (158, 53, "irc"),
      (159, 52, "netbios-ns"), (160, 53, "pptp"), (161, 35, "sane"), (162, 35, "sip"), (163, 52, "snmp"),
      (164, 33, "tftp"), (165, 52, "rtsp"),
    ]
    let vmap =
      "verdict map 'ct state vmap { established : accept, related : accept }' is expanded into 2 rules, one per element (its keys are disjoint)"
    var expected = [
      "9:12: warning: flowtable inet fw4 ft is not imported: the model has no flowtables (rules that use it keep 'flow add' as written)"
    ]
    expected += helpers.map {
      "\($0.0):12: warning: ct helper inet fw4 \($0.1) is not imported: the model has no ct helper objects"
    }
    expected += [
      "97:3: warning: \(vmap)",
      "107:29: warning: flow is not modelled; kept as an opaque non-terminal target 'flow offload @ft'",
      "108:3: warning: \(vmap)", "119:3: warning: \(vmap)",
    ]
    expected += helperSets.map {
      "\($0.0):\($0.1): warning: ct helper is not modelled; kept as an opaque non-terminal target 'ct helper set \"\($0.2)\"'"
    }
    expected += [
      "181:23: warning: icmpv6 type is not modelled; kept as an opaque match 'icmpv6 type . icmpv6 code { 130 . 0, 131 . 0, 132 . 0, 143 . 0 }'",
      "183:21: warning: icmpv6 type is not modelled; kept as an opaque match 'icmpv6 type . icmpv6 code { 2 . 0, 4 . 0, 4 . 1, 135 . 0, 136 . 0 }'",
      "193:21: warning: icmpv6 type is not modelled; kept as an opaque match 'icmpv6 type . icmpv6 code { 2 . 0, 4 . 0, 4 . 1 }'",
      "254:51: warning: tcp option is not modelled; kept as an opaque non-terminal target 'tcp option maxseg size set rt mtu'",
      "267:51: warning: tcp option is not modelled; kept as an opaque non-terminal target 'tcp option maxseg size set rt mtu'",
    ]
    #expect(imported.diagnostics.map(\.description) == expected.map { "\(name):" + $0 })

    let fw4 = try #require(imported.ruleset.table(.inet, "fw4"))
    #expect(imported.ruleset.tables.count == 1)
    #expect(fw4.sets.isEmpty)
    #expect(fw4.chains.count == 28)
    let input = try #require(fw4.chain("input"))
    #expect(input.base == BaseChain(type: .filter, hook: .input, priority: Priority(name: .filter), policy: .drop))
    #expect(
      input.rules.prefix(4)
        == [
          Rule(
            matches: [Match(.interfaceIndex(.input, .single("lo")))], verdict: .accept,
            comment: "!fw4: Accept traffic from loopback"),
          Rule(matches: [Match(.ctState([.established]))], verdict: .accept, comment: "!fw4: Handle inbound flows"),
          Rule(matches: [Match(.ctState([.related]))], verdict: .accept, comment: "!fw4: Handle inbound flows"),
          Rule(
            matches: [Match(.tcpFlags(value: .syn, mask: [.fin, .syn, .rst, .ack]))],
            verdict: .jump(chain: "syn_flood"),
            comment: "!fw4: Rate limit TCP syn packets"),
        ])
    #expect(
      fw4.chain("input_wan")?.rules.first
        == Rule(
          matches: [Match(.nfproto(.v4)), Match(.port(.udp, .destination, .single(PortRange(68))))],
          statements: [Statement(.counter)], verdict: .accept, comment: "!fw4: Allow-DHCP-Renew"))
    #expect(fw4.chain("mangle_output")?.base?.type == .route)
    #expect(fw4.chain("srcnat")?.base?.priority.value == 100)
    #expect(
      fw4.chain("srcnat_wan")?.rules
        == [
          Rule(
            matches: [Match(.nfproto(.v4))], verdict: .masquerade(ports: nil),
            comment: "!fw4: Masquerade IPv4 wan traffic")
        ])
  }
}
