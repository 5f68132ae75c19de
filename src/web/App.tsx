import { Navigate, Route, Routes } from 'react-router';
import { AdminOnly, RequireAuth } from './components/RequireAuth';
import { Shell } from './components/Shell';
import { ActivatePage } from './pages/Activate';
import { AppProfilesPage } from './pages/AppProfiles';
import { AuditPage } from './pages/Audit';
import { HomePage } from './pages/Home';
import { SettingsPage } from './pages/Settings';
import { SignInPage } from './pages/SignIn';
import { SignUpPage } from './pages/SignUp';
import { UsersPage } from './pages/Users';

export function App() {
  return (
    <Routes>
      <Route path="/signup" element={<SignUpPage />} />
      <Route path="/signin" element={<SignInPage />} />
      <Route path="/activate" element={<ActivatePage />} />
      <Route
        element={
          <RequireAuth>
            <Shell />
          </RequireAuth>
        }
      >
        <Route index element={<HomePage />} />
        <Route path="settings" element={<AdminOnly><SettingsPage /></AdminOnly>} />
        <Route path="settings/app-profiles" element={<AdminOnly><AppProfilesPage /></AdminOnly>} />
        <Route path="settings/users" element={<AdminOnly><UsersPage /></AdminOnly>} />
        <Route path="settings/audit" element={<AdminOnly><AuditPage /></AdminOnly>} />
        <Route path="*" element={<Navigate to="/" replace />} />
      </Route>
    </Routes>
  );
}
