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

  func decision(_ chain: Chain, _ index: Int?, _ rule: Rule?, _ policyText: String = "", source: SourceLocation?)
    -> Decision
  {
    Decision(
      namespace: firewall.name, family: hooked.table.family, table: hooked.table.name, chain: chain.name, index: index,
      decidingRule: rule, policyText: policyText, source: source, hook: hook)
  }

  func run(_ packet: inout Packet, _ state: inout RunState) -> Outcome {
    let table = hooked.table
    let family = table.family
    var context = MatchContext(table: table, hook: hook, priority: hooked.base.priority.value)
    defer { for a in context.assumptions.sorted() { state.assume(a) } }
    var current = hooked.compiled
    var index = 0
    // Indexed engine: walks the rules of the current chain that can match this packet (nil: all
    // of them), in order. Found once per chain entered.
    var candidates: CandidateCursor? = nil
    var stack: [(chain: CompiledChain, index: Int, candidates: CandidateCursor?)] = []
    let tracing = state.tracing

    func entry(
      _ chain: Chain, _ i: Int?, _ text: @autoclosure () -> String, matched: Bool, action: String,
      source: SourceLocation?
    ) {
      guard tracing else { return }
      state.trace.append(
        TraceEntry(
          namespace: firewall.name, hook: hook, family: family, table: table.name, chain: chain.name, index: i,
          rule: text(), matched: matched, action: action, source: source))
    }

    func policy() -> Outcome {
      let p = hooked.base.policy
      let text = "policy \(p.rawValue)"
      let location = hooked.base.location.line == 0 ? nil : hooked.base.location
      entry(hooked.chain, nil, text, matched: true, action: text, source: location)
      let d = decision(hooked.chain, nil, nil, text, source: location)
      return p == .accept ? .accept(d, false) : .drop(d)
    }

    candidates = current.index?.candidateLists(for: packet)

    while true {
      // Skip to the next rule that can match; the trace still lists the skipped ones.
      if candidates != nil {
        let next = candidates!.next(atLeast: index) ?? current.rules.count
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
        (current, index, candidates) = (frame.chain, frame.index, frame.candidates)
        continue
      }
      let node = current
      let rule = node.rules[index]
      let position = index
      // Text, locations and the model rule are looked up only when something shows them.
      func model() -> Rule { node.chain.rules[position] }
      func text() -> String { NFTSyntax.rule(model(), family: family) }
      func source() -> SourceLocation? {
        let location = node.chain.rules[position].location
        return location.line == 0 ? nil : location
      }
      var truth = Truth.yes
      for k in 0..<rule.fast.count {
        if let fast = rule.fast[k].evaluate(packet) {
          if !fast {
            truth = .no
            break
          }
          continue
        }
        let match = rule.matches[k]
        let t = MatchEvaluator.evaluate(match, packet, &context)
        if t == .no {
          truth = .no
          break
        }
        if case .unknown(let why) = t {
          truth = .unknown(
            "rule \"\(text())\" in chain \(family.rawValue) \(table.name) \(node.chain.name): cannot evaluate '\(NFTSyntax.match(match))': \(why)"
          )
          // Keep looking: a later false match still makes the rule false.
          continue
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
      for m in rule.marks { packet.mark = m }
      guard let verdict = rule.verdict else {
        entry(node.chain, index, text(), matched: true, action: "continue", source: source())
        index += 1
        continue
      }
      switch verdict {
      case .accept:
        entry(node.chain, index, text(), matched: true, action: "accept", source: source())
        return .accept(decision(node.chain, index, model(), source: source()), true)
      case .drop:
        entry(node.chain, index, text(), matched: true, action: "drop", source: source())
        return .drop(decision(node.chain, index, model(), source: source()))
      case .reject:
        entry(node.chain, index, text(), matched: true, action: "reject", source: source())
        return .reject(decision(node.chain, index, model(), source: source()))
      case .continue:
        entry(node.chain, index, text(), matched: true, action: "continue", source: source())
        index += 1
      case .return:
        entry(node.chain, index, text(), matched: true, action: "return", source: source())
        guard let frame = stack.popLast() else { return policy() }
        (current, index, candidates) = (frame.chain, frame.index, frame.candidates)
      case .jump(let target), .goto(let target):
        guard let dest = firewall.chainsByName[hooked.tableIndex][target] else {
          return .unknown("rule \"\(text())\" jumps to chain '\(target)', which table \(table.name) does not have")
        }
        let isJump: Bool
        if case .jump = verdict { isJump = true } else { isJump = false }
        entry(
          node.chain, index, text(), matched: true, action: "\(isJump ? "jump" : "goto") \(target)", source: source())
        if isJump {
          guard stack.count < ChainRunner.maximumDepth else {
            return .unknown("jump stack deeper than \(ChainRunner.maximumDepth) at rule \"\(text())\"")
          }
          stack.append((current, index + 1, candidates))
        }
        current = dest
        index = 0
        candidates = dest.index?.candidateLists(for: packet)
      case .snat, .dnat, .masquerade, .redirect:
        switch applyNAT(verdict, &packet, &state, text()) {
        case .failure(let why):
          entry(node.chain, index, text(), matched: true, action: "unknown", source: source())
          return .unknown(why)
        case .dropped(let why):
          entry(node.chain, index, text(), matched: true, action: "drop (\(why))", source: source())
          return .drop(decision(node.chain, index, model(), source: source()))
        case .success(let description):
          entry(node.chain, index, text(), matched: true, action: description, source: source())
          return .nat(decision(node.chain, index, model(), source: source()))
        }
      }
    }
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
