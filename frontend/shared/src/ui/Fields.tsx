import { useId, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from "react";

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
}

function described(id: string, hint?: string, error?: string) {
  return [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

function Foot({ id, hint, error }: { id: string; hint?: string; error?: string }) {
  return (
    <>
      {hint && <p id={`${id}-hint`} className="ui-field__hint">{hint}</p>}
      {error && <p id={`${id}-error`} className="ui-field__error">{error}</p>}
    </>
  );
}

/** A labelled select with its problem message, like TextField. */
export function SelectField({ label, error, hint, id, className, children, ...rest }: FieldProps & SelectHTMLAttributes<HTMLSelectElement> & { children: ReactNode }) {
  const auto = useId();
  const sid = id ?? auto;
  return (
    <div className={`ui-field${error ? " ui-field--invalid" : ""}${className ? ` ${className}` : ""}`}>
      <label htmlFor={sid}>{label}</label>
      <select id={sid} {...rest} aria-invalid={error ? true : undefined} aria-describedby={described(sid, hint, error)}>
        {children}
      </select>
      <Foot id={sid} hint={hint} error={error} />
    </div>
  );
}

/** A labelled text area with its problem message, like TextField. */
export function TextAreaField({ label, error, hint, id, className, ...rest }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const auto = useId();
  const tid = id ?? auto;
  return (
    <div className={`ui-field${error ? " ui-field--invalid" : ""}${className ? ` ${className}` : ""}`}>
      <label htmlFor={tid}>{label}</label>
      <textarea id={tid} {...rest} aria-invalid={error ? true : undefined} aria-describedby={described(tid, hint, error)} />
      <Foot id={tid} hint={hint} error={error} />
    </div>
  );
}
