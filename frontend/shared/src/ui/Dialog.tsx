import { useEffect, useId, useRef, type ReactNode } from "react";

interface Props {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** The buttons at the bottom (the dialog's own Close is always there). */
  actions?: ReactNode;
}

/**
 * A modal dialog on the browser's own <dialog>: focus moves in and is kept
 * there, Escape closes it, and focus returns to what opened it.
 */
export function Dialog({ open, title, onClose, children, actions }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === "function") d.showModal();
      else d.setAttribute("open", "");
    } else if (!open && d.open) {
      if (typeof d.close === "function") d.close();
      else d.removeAttribute("open");
    }
  }, [open]);
  return (
    <dialog ref={ref} className="ui-dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open && (
        <>
          <h2 id={titleId} className="ui-dialog__title">{title}</h2>
          <div className="ui-dialog__body">{children}</div>
          <div className="ui-dialog__actions">
            {actions}
            <button type="button" className="ui-button ui-button--secondary" onClick={onClose}>Close</button>
          </div>
        </>
      )}
    </dialog>
  );
}
