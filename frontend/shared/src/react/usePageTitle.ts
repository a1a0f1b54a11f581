import { useEffect } from "react";

/** Sets the document title ("Title · App"), so a screen reader announces the page. */
export function usePageTitle(title: string, app = "Shop") {
  useEffect(() => {
    document.title = title ? `${title} · ${app}` : app;
  }, [title, app]);
}
