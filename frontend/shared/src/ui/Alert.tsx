import type { ReactNode } from "react";

interface Props {
  tone?: "error" | "info" | "success" | "warning";
  title?: string;
  children?: ReactNode;
}

/** An alert: errors are announced at once (role=alert), the rest politely. */
export function Alert({ tone = "info", title, children }: Props) {
  return (
    <div className={`ui-alert ui-alert--${tone}`} role={tone === "error" ? "alert" : "status"}>
      {title && <p className="ui-alert__title">{title}</p>}
      {children && <div className="ui-alert__body">{children}</div>}
    </div>
  );
}
