import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeServer, json, problem } from "../../../shared/src/test/fakeServer";
import { renderApp } from "../test/render";

describe("registering", () => {
  it("shows each problem next to the field it names", async () => {
    const server = new FakeServer()
      .on("GET /api/v1/categories", () => json({ items: [] }))
      .on("GET /api/v1/products", () => json({ items: [] }))
      .on("POST /api/v1/auth/register", () =>
        problem(400, "validation", "Invalid input", "2 fields are invalid", [
          { field: "email", message: "must be a valid email address" },
          { field: "password", message: "must be at least 10 characters" },
        ]),
      );
    renderApp("/register", server);
    await userEvent.type(screen.getByLabelText("Your name"), "Sam");
    await userEvent.type(screen.getByLabelText("Email"), "sam@");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));

    const email = screen.getByLabelText("Email");
    expect(await screen.findByText("must be a valid email address")).toBeInTheDocument();
    expect(email).toHaveAttribute("aria-invalid", "true");
    expect(email).toHaveAccessibleDescription("must be a valid email address");
    expect(screen.getByLabelText("Password")).toHaveAccessibleDescription("At least 10 characters, not your email. must be at least 10 characters");
    expect(screen.getByLabelText("Your name")).not.toHaveAttribute("aria-invalid");
  });

  it("sends a shopper whose session cannot be refreshed to the login page", async () => {
    const server = new FakeServer()
      .on("GET /api/v1/users/me", () => problem(401, "unauthorized", "Unauthorized"))
      .on("POST /api/v1/auth/refresh", () => problem(401, "invalid-refresh-token", "Invalid refresh token"))
      .on("GET /api/v1/orders/user/:id", () => problem(401, "unauthorized", "Unauthorized"));
    renderApp("/orders", server, { signedIn: true });
    expect(await screen.findByText("Your session has ended")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Log in" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Log in" })).toBeInTheDocument();
  });
});
