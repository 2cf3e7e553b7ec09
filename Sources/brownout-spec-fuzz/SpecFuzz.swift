import Experiments
import Foundation

/// Feeds arbitrary bytes to the spec reader exactly as `brownout run` would read a spec file:
/// YAML, includes (the checkout's `models/` is linked beside the input, so seeds from
/// `experiments/` resolve theirs), variants and every section's checks. Errors are expected;
/// a trap (a failed precondition, an overflow, an index out of range) is a crash found.
///
/// Built with `-DBROWNOUT_FUZZING -sanitize=fuzzer` (`make fuzz`) it is a libFuzzer target;
/// built plainly it replays the files it is given (`make test` replays the regressions).
enum SpecFuzz {
    /// A scratch checkout: `experiments/input.yaml` is written for each input.
    static let input: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("brownout-spec-fuzz-\(getpid())")
        let experiments = root.appendingPathComponent("experiments")
        try? FileManager.default.createDirectory(at: experiments, withIntermediateDirectories: true)
        let models =
            ProcessInfo.processInfo.environment["BROWNOUT_MODELS"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models").path
        try? FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("models").path, withDestinationPath: models)
        return experiments.appendingPathComponent("input.yaml")
    }()

    /// Reads one input; returns the error message, or nil when it was a valid spec.
    @discardableResult
    static func check(_ data: Data) -> String? {
        do {
            try data.write(to: input)
        } catch {
            fatalError("brownout-spec-fuzz: cannot write \(input.path): \(error)")
        }
        do {
            _ = try Experiment.load(path: input.path, overrides: [])
            return nil
        } catch {
            return error.description
        }
    }
}

#if BROWNOUT_FUZZING
import CLibFuzzer

/// SwiftPM links an executable's entry point as `<module>_main`; built with `-parse-as-library`
/// there is no `@main`, so this is it: it hands the arguments to libFuzzer's driver.
@_cdecl("brownout_spec_fuzz_main")
public func brownoutSpecFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        SpecFuzz.check(data.map { Data(bytes: $0, count: size) } ?? Data())
        return 0
    }
}
#else
@main
struct SpecFuzzReplay {
    static func main() {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            FileHandle.standardError.write(Data("usage: brownout-spec-fuzz FILE…   (replays inputs through the spec reader)\n".utf8))
            exit(64)
        }
        for path in paths {
            // An empty file is read as no bytes without Foundation (which leaks on one).
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
            guard let data = size == 0 ? Data() : FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("\(path): file not found or not readable\n".utf8))
                exit(1)
            }
            let outcome = SpecFuzz.check(data)
            print("\(path): \(outcome.map { "rejected: \($0.split(separator: "\n").first ?? "")" } ?? "valid")")
        }
    }
}
#endif
