/**
 * Who is signed in, at the header's end: a person's menu (name, email, role here, sign out of this
 * browser or of every session), or a plain "Sign out" for typed keys and tokens, or — on a shared
 * link or a public dashboard — a read-only badge and nothing to sign out of.
 */
import { useEffect, useRef, useState } from "react";
import type { Me, Role } from "../api.ts";
import { signOutAll } from "../auth.ts";
import { navigate } from "../url-state.ts";

export function SharedBadge({ name }: { name: string }) {
  return (
    <span className="shared-badge" data-testid="shared-badge">
      Shared view of {name} · read only
    </span>
  );
}

export function AccountMenu({ me, memberRole }: { me: Me | null | undefined; memberRole: Role | null }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("pointerdown", away);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", away);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const leave = async (everywhere: boolean) => {
    setBusy(true);
    try {
      await signOutAll(everywhere);
    } catch {
      // Signed out here anyway; the server's session ends on its own.
    } finally {
      setBusy(false);
      navigate({ login: null });
    }
  };

  if (!me)
    return (
      <button type="button" className="link" onClick={() => void leave(false)}>
        Sign out
      </button>
    );
  return (
    <div className="account-menu" ref={box}>
      <button
        type="button"
        className="link"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="account-menu"
        onClick={() => setOpen((o) => !o)}
        data-testid="account-menu"
      >
        {me.name || me.email}
      </button>
      {open && (
        <div className="menu" id="account-menu" role="menu" aria-label="Account">
          <p className="menu-who">
            <strong>{me.email}</strong>
            {memberRole && <span className="muted">{memberRole} of this property</span>}
          </p>
          <button type="button" role="menuitem" disabled={busy} onClick={() => void leave(false)}>
            Sign out
          </button>
          <button type="button" role="menuitem" disabled={busy} onClick={() => void leave(true)}>
            Sign out everywhere
          </button>
        </div>
      )}
    </div>
  );
}
