import NetfilterModel

/// Runs one base chain (and the regular chains it jumps to) for a packet, recording a trace.
struct ChainRunner {
  enum Outcome {
    /// The chain accepted: by a rule (true) or its policy (false).
    case accept(Decision, Bool)
    /// A NAT rule rewrote the packet (an accept for this chain).
    case nat(Decision)
    case drop(Decision)
    case reject(Decision)
    case unknown(String)
  }

  let firewall: NamespaceFirewall
  let hooked: NamespaceFirewall.HookedChain
  let hook: Hook
  let network: NetworkContext?

  /// The kernel's jump stack depth (NFT_JUMP_STACK_SIZE).
  static let maximumDepth = 16

  /// A decision by rule `index` of `node` (nil: by the base chain's policy, worded `policyText`).
  func decision(_ node: CompiledChain, _ index: Int?, _ policyText: String = "", source: SourceLocation?) -> Decision {
    Decision(
      namespace: firewall.name, family: hooked.table.family, table: hooked.table.name, chain: node.name,
      rules: index == nil ? [] : node.models, position: index, policyText: policyText, source: source, hook: hook)
  }

  func run(_ packet: inout Packet, _ state: inout RunState) -> Outcome {
    let family = hooked.table.family
    let tableName = hooked.table.name
    var context = MatchContext(hooked: hooked, hook: hook, priority: hooked.base.priority.value)
    context.markChangedBy = state.markChangedBy
    context.ctMarkChangedBy = state.ctMarkChangedBy
    context.network = network
    context.plainHostAddress = state.plainHostAddress
    defer {
      if !context.assumptions.isEmpty { for a in context.assumptions.sorted() { state.assume(a) } }
    }
    var current = hooked.compiled
    var index = 0
    // Indexed engine: walks the rules of the current chain that can match this packet (nil: all
    // of them), in order. Found once per chain entered;
    // the candidates list and the position reached in it.
    var candidates: CandidateList? = nil
    var cursor = 0
    var stack: [(chain: CompiledChain, index: Int, candidates: CandidateList?, cursor: Int)] = []
    let tracing = state.tracing

    // Everything but the flags is an autoclosure: bulk runs (no trace) must not pay for it.
    func entry(
      _ chain: @autoclosure () -> Chain, _ i: Int?, _ text: @autoclosure () -> String, matched: Bool,
      action: @autoclosure () -> String, source: @autoclosure () -> SourceLocation?
    ) {
      guard tracing else { return }
      state.trace.append(
        TraceEntry(
          namespace: firewall.name, hook: hook, family: family, table: tableName, chain: chain().name, index: i,
          rule: text(), matched: matched, action: action(), source: source()))
    }

    func policy() -> Outcome {
      let p = hooked.base.policy
      let text = "policy \(p.rawValue)"
      let location = hooked.base.location.line == 0 ? nil : hooked.base.location
      entry(hooked.chain, nil, text, matched: true, action: text, source: location)
      let d = decision(hooked.compiled, nil, text, source: location)
      return p == .accept ? .accept(d, false) : .drop(d)
    }

    candidates = current.index?.candidateList(for: packet, hook: hook)

    while true {
      // Skip to the next rule that can match; the trace still lists the skipped ones.
      if candidates != nil {
        while cursor < candidates!.count && Int(candidates![cursor]) < index { cursor += 1 }
        let next = cursor < candidates!.count ? Int(candidates![cursor]) : current.rules.count
        if tracing {
          for skipped in index..<next {
            let model = current.chain.rules[skipped]
            entry(
              current.chain, skipped, NFTSyntax.rule(model, family: family), matched: false, action: "no match",
              source: model.location.line == 0 ? nil : model.location)
          }
        }
        index = next
      }
      if index >= current.rules.count {
        // End of a regular chain returns to the caller; end of the base chain (or of a chain
        // reached by goto from it) applies the base chain's policy.
        guard let frame = stack.popLast() else { return policy() }
        (current, index, candidates, cursor) = (frame.chain, frame.index, frame.candidates, frame.cursor)
        continue
      }
      let node = current
      let position = index
      // Text, locations and the model rule are looked up only when something shows them.
      func model() -> Rule { node.models[position] }
      func text() -> String { NFTSyntax.rule(model(), family: family) }
      func source() -> SourceLocation? {
        let location = node.models[position].location
        return location.line == 0 ? nil : location
      }
      // The plain-data prefilter first: it settles most rules from one contiguous array.
      let settled = node.filters.withUnsafeBufferPointer { $0[position].check(packet) }
      if settled == false {
        entry(node.chain, index, text(), matched: false, action: "no match", source: source())
        index += 1
        continue
      }
      let rule = node.rules[index]
      var truth = Truth.yes
      if settled == nil {
        truth = evaluate(rule, packet, &context) {
          "rule \"\(text())\" in chain \(family.rawValue) \(tableName) \(node.name): cannot evaluate '\(NFTSyntax.match($0))': \($1)"
        }
      }
      if truth == .no {
        entry(node.chain, index, text(), matched: false, action: "no match", source: source())
        index += 1
        continue
      }
      if case .unknown(let why) = truth {
        entry(node.chain, index, text(), matched: false, action: "unknown", source: source())
        return .unknown(why)
      }
      if !rule.marks.isEmpty && !applyMarks(rule.marks, &packet, &state, &context) {
        // `meta mark set ct mark` without a conntrack entry: nft's ct load breaks the rule there
        // (the statements before it, a counter say, have run).
        entry(
          node.chain, index, text(), matched: true,
          action: "continue (no conntrack entry: the rule stops at its ct mark)",
          source: source())
        index += 1
        continue
      }
      guard let verdict = rule.verdict else {
        entry(node.chain, index, text(), matched: true, action: "continue", source: source())
        index += 1
        continue
      }
      switch verdict {
      case .accept:
        entry(node.chain, index, text(), matched: true, action: "accept", source: source())
        return .accept(decision(node, index, source: source()), true)
      case .drop:
        entry(node.chain, index, text(), matched: true, action: "drop", source: source())
        return .drop(decision(node, index, source: source()))
      case .reject:
        entry(node.chain, index, text(), matched: true, action: "reject", source: source())
        return .reject(decision(node, index, source: source()))
      case .continue:
        entry(node.chain, index, text(), matched: true, action: "continue", source: source())
        index += 1
      case .return:
        entry(node.chain, index, text(), matched: true, action: "return", source: source())
        guard let frame = stack.popLast() else { return policy() }
        (current, index, candidates, cursor) = (frame.chain, frame.index, frame.candidates, frame.cursor)
      case .jump(let target), .goto(let target):
        guard let dest = firewall.chainsByName[hooked.tableIndex][target] else {
          return .unknown("rule \"\(text())\" jumps to chain '\(target)', which table \(tableName) does not have")
        }
        let isJump: Bool
        if case .jump = verdict { isJump = true } else { isJump = false }
        entry(
          node.chain, index, text(), matched: true, action: "\(isJump ? "jump" : "goto") \(target)", source: source())
        if isJump {
          guard stack.count < ChainRunner.maximumDepth else {
            return .unknown("jump stack deeper than \(ChainRunner.maximumDepth) at rule \"\(text())\"")
          }
          stack.append((current, index + 1, candidates, cursor))
        }
        current = dest
        index = 0
        candidates = dest.index?.candidateList(for: packet, hook: hook)
        cursor = 0
      case .opaque(let target):
        guard target.isTerminal else {
          // LOG-like targets act and return to the chain: assumed not to decide anything, except
          // for the effects on later rules the engine knows of.
          if target.untracks {
            // Only before conntrack: once the packet has an entry, NOTRACK and nft's notrack
            // leave it (`nft_notrack_eval` returns when `nf_ct_get` finds one).
            if !context.conntrackHasRun { packet.ctState = .untracked }
          } else {
            state.assume("target \(target.name) is not modelled; assumed not to change the packet's fate")
          }
          if target.mayChangeMark {
            state.markChangedBy = target.name
            context.markChangedBy = target.name
          }
          if target.mayChangeCTMark {
            state.ctMarkChangedBy = target.name
            context.ctMarkChangedBy = target.name
          }
          entry(node.chain, index, text(), matched: true, action: "continue", source: source())
          index += 1
          continue
        }
        entry(node.chain, index, text(), matched: true, action: "unknown", source: source())
        return .unknown(
          "rule \"\(text())\" in chain \(family.rawValue) \(tableName) \(node.name): target \(target.name) is not modelled and decides the packet's fate"
        )
      case .snat, .dnat, .masquerade, .redirect:
        switch applyNAT(verdict, &packet, &state, text()) {
        case .failure(let why):
          entry(node.chain, index, text(), matched: true, action: "unknown", source: source())
          return .unknown(why)
        case .dropped(let why):
          entry(node.chain, index, text(), matched: true, action: "drop (\(why))", source: source())
          return .drop(decision(node, index, source: source()))
        case .success(let description):
          entry(node.chain, index, text(), matched: true, action: description, source: source())
          return .nat(decision(node, index, source: source()))
        }
      }
    }
  }

  /// Runs a rule's mark statements in order, as the kernel does; false when one breaks the rule
  /// (nft's `meta mark set ct mark` finds no conntrack entry: the rest of the rule does not run).
  /// Writing the connection's mark without an entry does nothing.
  func applyMarks(
    _ marks: [CompiledChain.MarkEffect], _ packet: inout Packet, _ state: inout RunState, _ context: inout MatchContext
  ) -> Bool {
    let tracked = context.hasConntrackEntry(packet)
    for effect in marks {
      switch effect {
      case .setMark(let m):
        packet.mark = m
        state.markChangedBy = nil
        context.markChangedBy = nil
      case .setCTMark(let m):
        guard tracked else { continue }
        packet.ctMark = m
        state.ctMarkChangedBy = nil
        context.ctMarkChangedBy = nil
      case .saveMark:
        guard tracked else { continue }
        packet.ctMark = packet.mark
        state.ctMarkChangedBy = state.markChangedBy
        context.ctMarkChangedBy = context.markChangedBy
      case .restoreMark:
        guard tracked else { return false }
        packet.mark = packet.ctMark
        state.markChangedBy = state.ctMarkChangedBy
        context.markChangedBy = context.ctMarkChangedBy
      }
    }
    return true
  }

  /// A rule's matches in order: false as soon as one is false, else unknown if one could not be
  /// evaluated (`why` words the reason), else true.
  func evaluate(
    _ rule: CompiledChain.Rule, _ packet: Packet, _ context: inout MatchContext, why: (Match, String) -> String
  ) -> Truth {
    var truth = Truth.yes
    for k in 0..<rule.fast.count {
      if let fast = rule.fast[k].evaluate(packet) {
        if !fast { return .no }
        continue
      }
      let match = rule.matches[k]
      switch MatchEvaluator.evaluate(match, packet, &context) {
      case .no: return .no
      case .unknown(let reason):
        // Keep looking: a later false match still makes the rule false.
        if truth == .yes { truth = .unknown(why(match, reason)) }
      case .yes: continue
      }
    }
    return truth
  }

  enum NATResult {
    case success(String)
    case failure(String)
    case dropped(String)
  }

  func applyNAT(_ verdict: Verdict, _ packet: inout Packet, _ state: inout RunState, _ text: String) -> NATResult {
    func endpoint(_ a: IPAddress?, _ p: UInt16?) -> String {
      (a?.description ?? "?") + (p.map { ":\($0)" } ?? "")
    }
    let before: String
    switch verdict {
    case .dnat(let d):
      before = endpoint(packet.destination, packet.destinationPort)
      packet.destination = d.address
      if let ports = d.ports { packet.destinationPort = ports.first }
      if d.lastAddress != nil || (d.ports.map { !$0.isSinglePort } ?? false) {
        state.assume("NAT ranges: the first address and port of the range are used")
      }
      return record("destination \(before) -> \(endpoint(packet.destination, packet.destinationPort))", &state)
    case .snat(let d):
      before = endpoint(packet.source, packet.sourcePort)
      packet.source = d.address
      if let ports = d.ports { packet.sourcePort = ports.first }
      if d.lastAddress != nil || (d.ports.map { !$0.isSinglePort } ?? false) {
        state.assume("NAT ranges: the first address and port of the range are used")
      }
      return record("source \(before) -> \(endpoint(packet.source, packet.sourcePort))", &state)
    case .masquerade(let ports):
      before = endpoint(packet.source, packet.sourcePort)
      guard let version = packet.version else { return .failure("masquerade of a non-IP packet") }
      if let network, let oif = packet.outputInterface {
        guard let address = network.addressOf(oif, version) else {
          return .dropped("masquerade: \(oif) has no \(version == .v4 ? "IPv4" : "IPv6") address")
        }
        packet.source = address
      } else {
        state.assume(
          "masquerade: the output interface's address is not known without a topology; the source is shown unchanged")
      }
      if let ports { packet.sourcePort = ports.first }
      return record("source \(before) -> \(endpoint(packet.source, packet.sourcePort)) (masquerade)", &state)
    case .redirect(let ports):
      before = endpoint(packet.destination, packet.destinationPort)
      guard let version = packet.version else { return .failure("redirect of a non-IP packet") }
      if hook == .output {
        packet.destination = version == .v4 ? IPAddress("127.0.0.1")! : IPAddress("::1")!
      } else if let network, let iif = packet.inputInterface, let a = network.addressOf(iif, version) {
        packet.destination = a
      } else {
        state.assume(
          "redirect: the input interface's address is not known without a topology; the destination address is shown unchanged"
        )
      }
      if let ports { packet.destinationPort = ports.first }
      return record(
        "destination \(before) -> \(endpoint(packet.destination, packet.destinationPort)) (redirect)", &state)
    default:
      return .failure("not a NAT verdict")
    }
  }

  func record(_ description: String, _ state: inout RunState) -> NATResult {
    state.rewrites.append(Rewrite(namespace: firewall.name, hook: hook, description: description))
    return .success(description)
  }
}
