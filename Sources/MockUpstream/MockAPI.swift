/// The API a mock request came in on: OpenAI's chat completions or Anthropic's Messages.
public enum MockAPI: Sendable, Equatable {
    case chatCompletions
    case messages
}
