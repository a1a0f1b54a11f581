// Money is an integer amount in minor units with an ISO 4217 currency.
const formats = new Map<string, Intl.NumberFormat>();

export function formatMoney(amountMinor: number, currency: string, locale?: string): string {
  const key = `${locale ?? ""}|${currency}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: "currency", currency });
    formats.set(key, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(amountMinor / 10 ** digits);
}
