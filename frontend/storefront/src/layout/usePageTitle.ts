import { useEffect } from "react";

/** Sets the document title, so a screen reader announces the page. */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Shop` : "Shop";
  }, [title]);
}
