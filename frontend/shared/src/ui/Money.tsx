import { formatMoney } from "../money";

export function Money({ minor, currency, className }: { minor: number; currency: string; className?: string }) {
  return <span className={`ui-money${className ? ` ${className}` : ""}`}>{formatMoney(minor, currency)}</span>;
}
