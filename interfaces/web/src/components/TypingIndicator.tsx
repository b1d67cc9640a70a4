/** Shows `<display name> is typing` for each member typing now. */
export function TypingIndicator({ names }: { names: string[] }) {
  return (
    <div className="typing" aria-live="polite">
      {names.map((name) => (
        <span key={name} className="typing-item">
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          <span>{`${name} is typing`}</span>
        </span>
      ))}
    </div>
  );
}
