import type { ButtonHTMLAttributes } from "react";

interface Props extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: "primary" | "secondary" | "danger" | "link";
  /** Shows the work in progress and refuses further clicks. */
  busy?: boolean;
}

export function Button({ variant = "primary", busy = false, disabled, children, className, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      className={`ui-button ui-button--${variant}${className ? ` ${className}` : ""}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy && <span className="ui-spinner ui-spinner--small" aria-hidden="true" />}
      {children}
    </button>
  );
}
